// Each repository's and each Git branch's lag over the last day, one point per check, for /status and
// the chart on the page. A value with transitions, in memory only: a restart starts it again, and
// /status says since when (historySince). Pure: every function takes the instant it is asked about.
import { iso } from "../core/iso-time.ts";

/** One check's lag as it concluded: whole seconds, or null when the check failed or the lag was unknown. */
export interface LagPoint {
  readonly atMs: number;
  readonly lagSeconds: number | null;
}

export type LagHistory = readonly LagPoint[];

export const EMPTY_HISTORY: LagHistory = [];

/** What the history covers: the last 24 h. */
export const HISTORY_WINDOW_MS = 24 * 60 * 60_000;

/**
 * At most this many points, whatever the schedule: one a minute for 24 h (the default schedule, every
 * 5 min, makes 288). A schedule faster than once a minute (CHECK_SCHEDULE takes seconds) keeps the
 * newest 1,440, less than a day, rather than growing without bound.
 */
export const HISTORY_MAX_POINTS = 1440;

/**
 * The point a concluded check adds: a failed check knows no lag it can vouch for, and an unknown one is
 * no zero (lag.ts: NaN is unknown), so both are null.
 */
export function lagPoint(outcome: { ok: boolean; lagSeconds: number }, atMs: number): LagPoint {
  const known = outcome.ok && Number.isFinite(outcome.lagSeconds);
  return { atMs, lagSeconds: known ? Math.round(outcome.lagSeconds) : null };
}

/**
 * The points of the last 24 h at `nowMs` (a point exactly 24 h old is out, so that a day of 5-minute
 * checks is 288 points), oldest first, at most HISTORY_MAX_POINTS (the newest).
 */
export function historyWithin(history: LagHistory, nowMs: number): LagHistory {
  const from = nowMs - HISTORY_WINDOW_MS;
  const first = history.findIndex((p) => p.atMs > from);
  const recent = first === -1 ? EMPTY_HISTORY : first === 0 ? history : history.slice(first);
  return recent.length > HISTORY_MAX_POINTS ? recent.slice(recent.length - HISTORY_MAX_POINTS) : recent;
}

/** After a check: its point appended, and what is older than 24 h at `nowMs` (or beyond the cap) dropped. */
export function historyAfterCheck(history: LagHistory, point: LagPoint, nowMs: number): LagHistory {
  return historyWithin([...history, point], nowMs);
}

/** The history as /status shows it: `at` as ISO 8601, oldest first, only the last 24 h at `nowMs`. */
export function historyJson(history: LagHistory, nowMs: number): Array<{ at: string; lagSeconds: number | null }> {
  return historyWithin(history, nowMs).flatMap((p) => {
    const at = iso(p.atMs);
    return at === null ? [] : [{ at, lagSeconds: p.lagSeconds }];
  });
}
