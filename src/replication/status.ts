// The replication check's part of /status and of the page: per repository its status and why, the
// push that holds the lag, and when it was last checked (repository-status.ts derives the status).
// Pure.
import { iso, isoSeconds } from "../core/iso-time.ts";
import type { RepositoryState } from "../run/lag.ts";
import { EMPTY_HISTORY, historyJson, type LagHistory } from "../run/lag-history.ts";
import { repositoryStatus, type Status, type StatusContext, type StatusPolicy } from "./repository-status.ts";

export interface RepositoryStatusEntry {
  repository: string;
  callsign: string;
  status: Status;
  reason: string | null;
  /** Whole seconds; null when unknown (JSON has no NaN). */
  lagSeconds: number | null;
  oldestUnverified: { pushId: number; pushTime: string | null; user: string; missingNode: string | null; missingCommits: number | null } | null;
  /** In how many checks in a row the oldest unverified push has been the same one. */
  blockedChecks: number;
  pending: number | null;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
  lastPushReceived: string | null;
  /** One point per check over the last 24 h, oldest first; lagSeconds null when the check failed or did not know. */
  history: Array<{ at: string; lagSeconds: number | null }>;
  /** Since when the history runs: this process's start (it is kept in memory). */
  historySince: string | null;
}

/** Each repository with its own no-input window (ms), which overrides the policy's. */
export type StatusRepository = { path: string; callsign: string; noInputAfterMs?: number };

export function repositoriesSection(
  repositories: readonly StatusRepository[],
  states: ReadonlyMap<string, RepositoryState>,
  nowMs: number,
  policy: StatusPolicy,
  context: StatusContext,
  /** Each repository's last day of checks (lag-history.ts); none given, an empty one. */
  histories: ReadonlyMap<string, LagHistory> = new Map(),
): RepositoryStatusEntry[] {
  return repositories.map(({ path, callsign, noInputAfterMs }) => {
    const state = states.get(path);
    const own = noInputAfterMs === undefined ? policy : { ...policy, noInputAfterMs };
    const judged =
      state === undefined
        ? { status: "unknown" as const, reason: "no check has run yet", lagSeconds: Number.NaN }
        : repositoryStatus(state, nowMs, own, context);
    const blocker = state?.oldestUnverified;
    return {
      repository: path,
      callsign,
      status: judged.status,
      reason: judged.reason,
      lagSeconds: Number.isNaN(judged.lagSeconds) ? null : judged.lagSeconds,
      oldestUnverified: blocker ? { ...blocker, pushTime: isoSeconds(blocker.pushTime) } : null,
      blockedChecks: state?.blockedChecks ?? 0,
      pending: state?.pendingPushes ?? null,
      lastCheck: iso(state?.lastCheckAt),
      lastSuccess: iso(state?.lastSuccessAt),
      lastError: state?.lastError ?? null,
      lastPushReceived: iso(state?.lastPushReceivedAt),
      history: historyJson(histories.get(path) ?? EMPTY_HISTORY, nowMs),
      historySince: iso(context.startedAt),
    };
  });
}
