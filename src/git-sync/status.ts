// The Git → hg sync's part of /status and of the page: per Git branch its lag (lag.ts's rules) and the
// oldest Git push not yet in hg. Pure.
import { iso, isoSeconds } from "../core/iso-time.ts";
import { lagSeconds } from "../run/lag.ts";
import { historyJson } from "../run/lag-history.ts";
import type { BranchSync } from "./branch-sync.ts";

/** One Git branch's Git → hg sync (GIT_BRANCHES). */
export interface SyncStatus {
  branch: string;
  repository: string;
  /** Whole seconds; null when unknown. */
  lagSeconds: number | null;
  /** The oldest Git push not yet in hg: Lando's push id, its time and head. */
  oldestPending: { pushId: number; pushTime: string | null; head: string } | null;
  pending: number;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
  /** One point per check over the last 24 h, oldest first; lagSeconds null when the check failed or did not know. */
  history: Array<{ at: string; lagSeconds: number | null }>;
  /** Since when the history runs: this process's start (it is kept in memory). */
  historySince: string | null;
}

export function syncSection(
  branches: ReadonlyArray<{ branch: string; repository: string }>,
  states: ReadonlyMap<string, BranchSync>,
  nowMs: number,
  options: { staleAfterMs: number; connected: boolean; startedAt: number },
): SyncStatus[] {
  return branches.map(({ branch, repository }) => {
    const state = states.get(branch);
    const lag = state === undefined ? Number.NaN : lagSeconds(state.state, nowMs, options.staleAfterMs, options.connected);
    const oldest = state === undefined ? undefined : [...state.pending.values()].sort((a, b) => a.pushId - b.pushId)[0];
    return {
      branch,
      repository,
      lagSeconds: Number.isNaN(lag) ? null : lag,
      oldestPending: oldest === undefined ? null : { pushId: oldest.pushId, pushTime: isoSeconds(oldest.pushTime), head: oldest.head },
      pending: state?.pending.size ?? 0,
      lastCheck: iso(state?.state.lastCheckAt),
      lastSuccess: iso(state?.state.lastSuccessAt),
      lastError: state?.state.lastError ?? null,
      history: state === undefined ? [] : historyJson(state.history, nowMs),
      historySince: iso(options.startedAt),
    };
  });
}
