// What the service believes about each repository between checks, and the lag it derives from that
// at any instant. Pure: every function takes the time it is asked about.
import { isFresh } from "./stale.ts";
import type { Push } from "../hgpush/hgpush-message.ts";

export interface RepositoryState {
  /** When (ms since epoch) a check of this repository last completed. */
  lastSuccessAt: number | undefined;
  /**
   * Unix seconds of the oldest push not known to be fully mirrored; null when the last check found
   * every push mirrored; undefined before anything is known.
   */
  oldestUnverifiedPushTime: number | null | undefined;
  /** Pushes seen on the queue and not yet verified, as of the last check that read the queue. */
  pendingPushes: number | undefined;
  /** Whether the most recent check completed; undefined before any check. */
  lastCheckOk: boolean | undefined;
  /** Why the most recent check did not complete; undefined when it did. */
  lastError?: string | undefined;
  /** When (ms) the most recent check of this repository ended, completed or not. */
  lastCheckAt?: number | undefined;
  /**
   * The first push, in push order, not known to be fully mirrored, with what the walk found missing;
   * null when the last check found every push mirrored; undefined before anything is known.
   */
  oldestUnverified?: UnverifiedPush | null | undefined;
  /** In how many checks in a row that same push was the oldest unverified one (0 when none is). */
  blockedChecks?: number;
  /** When (ms) a check last read a message announcing a push for the first time (not a redelivery). */
  lastPushReceivedAt?: number | undefined;
}

/** The push that holds the lag, as /status shows it. */
export interface UnverifiedPush {
  pushId: number;
  /** Unix seconds. */
  pushTime: number;
  user: string;
  /** The first of its commits the mirror did not have; null when the walk could not tell (unknown, or not in the pushlog yet). */
  missingNode: string | null;
  /** How many of its commits the mirror did not have; null when not known. */
  missingCommits: number | null;
}

export const INITIAL_STATE: RepositoryState = {
  lastSuccessAt: undefined,
  oldestUnverifiedPushTime: undefined,
  pendingPushes: undefined,
  lastCheckOk: undefined,
  lastCheckAt: undefined,
  oldestUnverified: undefined,
  blockedChecks: 0,
  lastPushReceivedAt: undefined,
};

/**
 * The replication lag in whole seconds at `nowMs`: NaN when unknown (no successful check yet, or the
 * last one is older than `staleAfterMs`), 0 when the last check found everything mirrored, else the
 * age of the oldest unverified push, growing between checks.
 *
 * A zero is a claim that nothing is outstanding, so it is made only while the source of pushes is
 * reachable (`connected`) and the most recent check completed; otherwise the answer is NaN. A positive
 * lag stays: whatever else is unknown, that push is still not verified.
 */
export function lagSeconds(state: RepositoryState, nowMs: number, staleAfterMs: number, connected = true): number {
  if (!isFresh(state.lastSuccessAt, nowMs, staleAfterMs)) return Number.NaN;
  if (state.oldestUnverifiedPushTime === undefined) return Number.NaN;
  if (state.oldestUnverifiedPushTime === null) return connected && state.lastCheckOk !== false ? 0 : Number.NaN;
  // Integer arithmetic on seconds: a timedelta-style "seconds" field is what dropped whole days before.
  // At least 1: 0 says the mirror has everything, and a push it has not verified is not that.
  return Math.max(1, Math.floor(nowMs / 1000) - state.oldestUnverifiedPushTime);
}

export interface CheckOutcome {
  /** The check of this repository completed (lagging or not). */
  ok: boolean;
  /** Why it did not. */
  error?: string | undefined;
  /** Pushes still unverified after the check; undefined when the queue could not be read. */
  unverified: readonly Push[] | undefined;
  atMs: number;
  /** Where the ordered walk stopped for want of a commit: the push, its first missing node and how many were missing. */
  missing?: { pushId: number; node: string; count: number } | undefined;
  /** The check read a message announcing a push to this repository for the first time. */
  receivedNew?: boolean;
}

export function stateAfterCheck(previous: RepositoryState, outcome: CheckOutcome): RepositoryState {
  const lastError = outcome.ok ? undefined : (outcome.error ?? "check failed");
  const seen = { lastCheckAt: outcome.atMs, lastPushReceivedAt: outcome.receivedNew ? outcome.atMs : previous.lastPushReceivedAt };
  if (outcome.unverified === undefined) {
    return outcome.ok
      ? { ...previous, ...seen, lastSuccessAt: outcome.atMs, lastCheckOk: true, lastError }
      : { ...previous, ...seen, lastCheckOk: false, lastError };
  }
  const oldest = outcome.unverified.reduce<number | null>((min, push) => (min === null || push.pushTime < min ? push.pushTime : min), null);
  const blocker = blockerOf(previous, outcome.unverified, outcome.missing);
  if (outcome.ok) {
    return {
      ...seen,
      lastSuccessAt: outcome.atMs,
      oldestUnverifiedPushTime: oldest,
      pendingPushes: outcome.unverified.length,
      lastCheckOk: true,
      lastError,
      ...blocker,
    };
  }
  // A failed check still read the queue, so what it left unverified is what is outstanding; it only
  // cannot vouch for the rest, so it never turns a known lag into a zero.
  const kept = oldest ?? previous.oldestUnverifiedPushTime;
  return {
    ...previous,
    ...seen,
    oldestUnverifiedPushTime: kept,
    pendingPushes: outcome.unverified.length,
    lastCheckOk: false,
    lastError,
    ...(outcome.unverified.length > 0 ? blocker : {}),
  };
}

/** The first unverified push in push order, and whether it is the one that held the lag at the last check too. */
function blockerOf(
  previous: RepositoryState,
  unverified: readonly Push[],
  found: CheckOutcome["missing"],
): Pick<RepositoryState, "oldestUnverified" | "blockedChecks"> {
  const first = unverified.reduce<Push | undefined>((min, push) => (min === undefined || push.pushId < min.pushId ? push : min), undefined);
  if (first === undefined) return { oldestUnverified: null, blockedChecks: 0 };
  const missing = found?.pushId === first.pushId ? found : undefined;
  const same = previous.oldestUnverified?.pushId === first.pushId;
  return {
    oldestUnverified: {
      pushId: first.pushId,
      pushTime: first.pushTime,
      user: first.user,
      missingNode: missing?.node ?? null,
      missingCommits: missing?.count ?? null,
    },
    blockedChecks: same ? (previous.blockedChecks ?? 0) + 1 : 1,
  };
}

/** Seconds from each push to the check that verified it. */
export function replicationDelays(verified: readonly Push[], atMs: number): number[] {
  return verified.map((push) => Math.max(0, atMs / 1000 - push.pushTime));
}
