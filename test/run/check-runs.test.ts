import { describe, expect, it } from "vitest";
import { NO_RUNS, runOverdue, runsAfterEnd, runsAfterSettle, runsAfterStart, runsSummary } from "../../src/run/check-runs.ts";

const POLICY = { maxRunMs: 240_000, stopGraceMs: 5000, maxConsecutiveFailures: 3 };
const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const MIN = 60_000;

describe("check runs", () => {
  it("counts failures in a row, escalates once when the streak reaches the limit, and says when it recovers", () => {
    let runs = NO_RUNS;
    const escalations: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const ended = runsAfterEnd(
        runsAfterStart(runs, T0 + i * 5 * MIN),
        { ok: false, timedOut: false, stillRunning: false, atMs: T0 + i * 5 * MIN + 1000 },
        POLICY,
      );
      escalations.push(ended.escalate);
      runs = ended.runs;
    }
    expect(escalations).toEqual([false, false, true, false, false]);
    expect(runs.consecutiveFailures).toBe(5);
    expect(runsSummary(runs, T0 + 30 * MIN, POLICY)).toMatchObject({ consecutiveFailures: 5, failing: true, lastRunOk: false, running: false });
    const back = runsAfterEnd(runs, { ok: true, timedOut: false, stillRunning: false, atMs: T0 + 30 * MIN }, POLICY);
    expect(back).toMatchObject({ escalate: false, recovered: true });
    expect(back.runs.consecutiveFailures).toBe(0);
    expect(runsSummary(back.runs, T0 + 30 * MIN, POLICY)).toMatchObject({ failing: false, lastRun: "2026-12-02T10:30:00.000Z" });
  });

  it("a success after a short streak is no recovery worth a line", () => {
    const one = runsAfterEnd(NO_RUNS, { ok: false, timedOut: false, stillRunning: false, atMs: T0 }, POLICY).runs;
    expect(runsAfterEnd(one, { ok: true, timedOut: false, stillRunning: false, atMs: T0 + 5 * MIN }, POLICY).recovered).toBe(false);
  });

  it("knows a run is going, and when it is overdue past the maximum run time", () => {
    const started = runsAfterStart(NO_RUNS, T0);
    expect(runsSummary(started, T0 + MIN, POLICY)).toMatchObject({ running: true, overdue: false });
    expect(runOverdue(started, T0 + 4 * MIN + 1, POLICY)).toBe(true);
    const timedOut = runsAfterEnd(started, { ok: false, timedOut: true, stillRunning: false, atMs: T0 + 4 * MIN }, POLICY).runs;
    expect(runsSummary(timedOut, T0 + 5 * MIN, POLICY)).toMatchObject({ running: false, overdue: false, timedOut: 1 });
  });

  it("an abandoned run is still running, and overdue, until it settles", () => {
    const started = runsAfterStart(NO_RUNS, T0);
    const abandoned = runsAfterEnd(started, { ok: false, timedOut: true, stillRunning: true, atMs: T0 + 4 * MIN }, POLICY).runs;
    expect(runsSummary(abandoned, T0 + 5 * MIN, POLICY)).toMatchObject({ running: true, overdue: true, consecutiveFailures: 1, timedOut: 1 });
    expect(runsSummary(runsAfterSettle(abandoned), T0 + 6 * MIN, POLICY)).toMatchObject({ running: false, overdue: false });
  });
});
