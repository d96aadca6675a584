// One word per repository for a person at 3 a.m., and the reason behind it, in the spirit of
// LinkedIn Burrow's evaluator (https://github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules):
// not only how far behind, but whether it is moving. Pure: every function takes the instant it is
// asked about.
import { isFresh } from "../run/stale.ts";
import { lagSeconds, type RepositoryState } from "../run/lag.ts";
import { humanDuration } from "../core/duration.ts";

export const STATUSES = ["ok", "lagging", "stalled", "no_input", "unknown"] as const;
export type Status = (typeof STATUSES)[number];

export interface StatusPolicy {
  /** A lag older than this (three check intervals) is not known any more. */
  staleAfterMs: number;
  /** The same push holding the lag in this many checks in a row is `stalled`. */
  stalledAfterChecks: number;
  /** No push received for this long (ms), while nothing is outstanding, is `no_input`. */
  noInputAfterMs: number;
}

export interface StatusContext {
  /** Whether Pulse is connected now: a zero is claimed only while it is (lag.ts). */
  connected: boolean;
  /** When (ms) this process started: the last push is not known from before it. */
  startedAt: number;
}

export interface RepositoryStatus {
  status: Status;
  /** Why, in words, for every status but `ok`; null for `ok`. */
  reason: string | null;
  /** Whole seconds; NaN when unknown. */
  lagSeconds: number;
}

export function repositoryStatus(state: RepositoryState, nowMs: number, policy: StatusPolicy, context: StatusContext): RepositoryStatus {
  const lag = lagSeconds(state, nowMs, policy.staleAfterMs, context.connected);
  if (Number.isNaN(lag)) return { status: "unknown", reason: unknownReason(state, nowMs, policy, context), lagSeconds: lag };
  const blocker = state.oldestUnverified;
  if (lag > 0) {
    const blocked = state.blockedChecks ?? 0;
    const what = blocker ? `push ${blocker.pushId}` : "a push";
    const missing = blocker?.missingNode ? `; ${blocker.missingNode.slice(0, 12)} is not in the mirror` : "";
    if (blocker && blocked >= policy.stalledAfterChecks) {
      return { status: "stalled", reason: `${what} has held the lag for ${blocked} checks in a row${missing}`, lagSeconds: lag };
    }
    return { status: "lagging", reason: `${what} is not fully mirrored after ${humanDuration(lag)}${missing}`, lagSeconds: lag };
  }
  const lastInputAt = Math.max(state.lastPushReceivedAt ?? 0, context.startedAt);
  const quietMs = nowMs - lastInputAt;
  if (quietMs >= policy.noInputAfterMs) {
    const since = state.lastPushReceivedAt === undefined ? " (none since this process started)" : "";
    const quiet = humanDuration(Math.floor(quietMs / 1000));
    return { status: "no_input", reason: `no push received for ${quiet}${since}; a quiet feed and a broken one look alike`, lagSeconds: lag };
  }
  return { status: "ok", reason: null, lagSeconds: lag };
}

function unknownReason(state: RepositoryState, nowMs: number, policy: StatusPolicy, context: StatusContext): string {
  const error = state.lastError ? `: ${state.lastError}` : "";
  if (state.lastSuccessAt === undefined) {
    return state.lastCheckAt === undefined ? "no check has run yet" : `no check has completed yet${error}`;
  }
  if (!isFresh(state.lastSuccessAt, nowMs, policy.staleAfterMs)) {
    return `the last completed check was ${humanDuration(Math.floor((nowMs - state.lastSuccessAt) / 1000))} ago${error}`;
  }
  if (state.oldestUnverifiedPushTime === undefined) return "which pushes are outstanding is not known yet";
  if (!context.connected) return "Pulse is disconnected: new pushes may be arriving unseen";
  return `the last check failed${error}`;
}
