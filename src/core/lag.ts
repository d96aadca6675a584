// What the service believes about each repository between checks, and the lag it derives from that
// at any instant. Pure: every function takes the time it is asked about.
import type { Push } from "./hgpush-message.ts";

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
}

export const INITIAL_STATE: RepositoryState = {
  lastSuccessAt: undefined,
  oldestUnverifiedPushTime: undefined,
  pendingPushes: undefined,
  lastCheckOk: undefined,
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
  if (state.lastSuccessAt === undefined || nowMs - state.lastSuccessAt > staleAfterMs) return Number.NaN;
  if (state.oldestUnverifiedPushTime === undefined) return Number.NaN;
  if (state.oldestUnverifiedPushTime === null) return connected && state.lastCheckOk !== false ? 0 : Number.NaN;
  // Integer arithmetic on seconds: a timedelta-style "seconds" field is what dropped whole days before.
  return Math.max(0, Math.floor(nowMs / 1000) - state.oldestUnverifiedPushTime);
}

export interface CheckOutcome {
  /** The check of this repository completed (lagging or not). */
  ok: boolean;
  /** Why it did not. */
  error?: string | undefined;
  /** Pushes still unverified after the check; undefined when the queue could not be read. */
  unverified: readonly Push[] | undefined;
  atMs: number;
}

export function stateAfterCheck(previous: RepositoryState, outcome: CheckOutcome): RepositoryState {
  const lastError = outcome.ok ? undefined : (outcome.error ?? "check failed");
  if (outcome.unverified === undefined) {
    return outcome.ok ? { ...previous, lastSuccessAt: outcome.atMs, lastCheckOk: true, lastError } : { ...previous, lastCheckOk: false, lastError };
  }
  const oldest = outcome.unverified.reduce<number | null>((min, push) => (min === null || push.pushTime < min ? push.pushTime : min), null);
  if (outcome.ok) {
    return { lastSuccessAt: outcome.atMs, oldestUnverifiedPushTime: oldest, pendingPushes: outcome.unverified.length, lastCheckOk: true, lastError };
  }
  // A failed check still read the queue, so what it left unverified is what is outstanding; it only
  // cannot vouch for the rest, so it never turns a known lag into a zero.
  const kept = oldest ?? previous.oldestUnverifiedPushTime;
  return { ...previous, oldestUnverifiedPushTime: kept, pendingPushes: outcome.unverified.length, lastCheckOk: false, lastError };
}

/** Seconds from each push to the check that verified it. */
export function replicationDelays(verified: readonly Push[], atMs: number): number[] {
  return verified.map((push) => Math.max(0, atMs / 1000 - push.pushTime));
}
