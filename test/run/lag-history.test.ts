// The last day of lag, one point per check, over fixed instants: what a check adds, what leaves after
// 24 h, the cap a per-second schedule meets, and the JSON /status shows.
import { describe, expect, it } from "vitest";
import {
  EMPTY_HISTORY,
  HISTORY_MAX_POINTS,
  HISTORY_WINDOW_MS,
  historyAfterCheck,
  historyJson,
  historyWithin,
  lagPoint,
  type LagHistory,
} from "../../src/run/lag-history.ts";

const T0 = Date.UTC(2026, 11, 8, 3, 0, 0);
const MIN = 60_000;

/** A check every `everyMs` for `count` checks ending at `endMs`, each with lag `lag(i)`. */
function checks(count: number, everyMs: number, endMs: number, lag: (i: number) => number | null): LagHistory {
  let history = EMPTY_HISTORY;
  for (let i = 0; i < count; i++) {
    const atMs = endMs - (count - 1 - i) * everyMs;
    history = historyAfterCheck(history, { atMs, lagSeconds: lag(i) }, atMs);
  }
  return history;
}

describe("a check's point", () => {
  it("is the lag the check concluded, in whole seconds", () => {
    expect(lagPoint({ ok: true, lagSeconds: 612 }, T0)).toEqual({ atMs: T0, lagSeconds: 612 });
    expect(lagPoint({ ok: true, lagSeconds: 0 }, T0)).toEqual({ atMs: T0, lagSeconds: 0 });
  });

  it("is null, never 0, when the check failed or the lag was unknown", () => {
    expect(lagPoint({ ok: false, lagSeconds: 0 }, T0).lagSeconds).toBeNull();
    expect(lagPoint({ ok: false, lagSeconds: 900 }, T0).lagSeconds).toBeNull();
    expect(lagPoint({ ok: true, lagSeconds: Number.NaN }, T0).lagSeconds).toBeNull();
  });
});

describe("the last day's history", () => {
  it("keeps one point per check, oldest first: 288 a day at the default 5-minute schedule", () => {
    const day = checks(288, 5 * MIN, T0, (i) => i * 60);
    expect(day).toHaveLength(288);
    expect(day[0]).toEqual({ atMs: T0 - 287 * 5 * MIN, lagSeconds: 0 });
    expect(day.at(-1)).toEqual({ atMs: T0, lagSeconds: 287 * 60 });
    // The next check pushes the oldest out of the 24 h.
    const next = historyAfterCheck(day, { atMs: T0 + 5 * MIN, lagSeconds: 1 }, T0 + 5 * MIN);
    expect(next).toHaveLength(288);
    expect(next[0]?.atMs).toBe(T0 - 286 * 5 * MIN);
  });

  it("drops what is older than 24 h at the instant asked about, even with no check since", () => {
    const history = checks(3, 5 * MIN, T0, () => 10);
    expect(historyWithin(history, T0 + HISTORY_WINDOW_MS - 10 * MIN - 1)).toHaveLength(3);
    // A point exactly 24 h old is out.
    expect(historyWithin(history, T0 + HISTORY_WINDOW_MS - 10 * MIN)).toEqual([
      { atMs: T0 - 5 * MIN, lagSeconds: 10 },
      { atMs: T0, lagSeconds: 10 },
    ]);
    expect(historyWithin(history, T0 + HISTORY_WINDOW_MS)).toEqual([]);
    // The value itself is left as it was.
    expect(history).toHaveLength(3);
  });

  it(`holds at most ${HISTORY_MAX_POINTS} points, the newest, whatever the schedule (one check a second for an hour)`, () => {
    const fast = checks(3600, 1000, T0, (i) => i);
    expect(fast).toHaveLength(HISTORY_MAX_POINTS);
    expect(fast.at(-1)).toEqual({ atMs: T0, lagSeconds: 3599 });
    expect(fast[0]).toEqual({ atMs: T0 - (HISTORY_MAX_POINTS - 1) * 1000, lagSeconds: 3600 - HISTORY_MAX_POINTS });
  });

  it("is shown in /status as ISO 8601 times and lags, null kept", () => {
    const history = checks(3, 5 * MIN, T0, (i) => (i === 1 ? null : i * 300));
    expect(historyJson(history, T0)).toEqual([
      { at: "2026-12-08T02:50:00.000Z", lagSeconds: 0 },
      { at: "2026-12-08T02:55:00.000Z", lagSeconds: null },
      { at: "2026-12-08T03:00:00.000Z", lagSeconds: 600 },
    ]);
    expect(JSON.parse(JSON.stringify(historyJson(history, T0)))).toEqual(historyJson(history, T0));
  });
});
