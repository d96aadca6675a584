// The CHECK_SCHEDULE timer over fake timers (Date and setTimeout both faked, so node-cron's matcher
// reads the fake clock): a run at each scheduled second, none after stop; after the process slept, one
// report for the whole gap and the latest run done at once; after the clock went back, the next run as
// the clock now says, not after waiting out the jump; node-cron's special day tokens.
import { afterEach, expect, it, vi } from "vitest";
import { startCheckTimer, type MissedRuns } from "../../src/run/check-timer.ts";

afterEach(() => {
  vi.useRealTimers();
});

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0, 400);
const iso = (ms: number) => new Date(ms).toISOString();

it("runs at every run of the schedule, says when the next is, and stops", async () => {
  vi.useFakeTimers({ now: T0 });
  const runs: number[] = [];
  const timer = startCheckTimer("*/2 * * * * *", { run: () => runs.push(Date.now()), missed: () => runs.push(-1) });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:00:02.000Z");
  await vi.advanceTimersByTimeAsync(6000);
  expect(runs.map(iso)).toEqual(["2026-12-03T09:00:02.000Z", "2026-12-03T09:00:04.000Z", "2026-12-03T09:00:06.000Z"]);
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:00:08.000Z");
  await timer.stop();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(runs).toHaveLength(3);
  expect(timer.nextRun()).toBeUndefined();
});

it("after the process slept through runs, reports the gap once and runs once at once, not skipping it", async () => {
  vi.useFakeTimers({ now: T0 });
  const runs: string[] = [];
  const missed: MissedRuns[] = [];
  const timer = startCheckTimer("* * * * *", { run: () => runs.push(iso(Date.now())), missed: (gap) => missed.push(gap) });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:01:00.000Z");
  // The process is suspended for 3.5 minutes: the clock moves, no timer fires meanwhile.
  vi.setSystemTime(T0 + 3.5 * 60_000);
  await vi.advanceTimersByTimeAsync(60_000);
  // The timer fires 59.6 s after it was set, when the clock says 09:04:30: three runs were due.
  expect(missed).toEqual([{ due: new Date("2026-12-03T09:01:00.000Z"), lateMs: 210_000 }]);
  expect(runs).toEqual(["2026-12-03T09:04:30.000Z"]);
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:05:00.000Z");
  await timer.stop();
});

it("after the clock went back an hour, runs at the next run the clock now says, not an hour later", async () => {
  vi.useFakeTimers({ now: T0 });
  const runs: string[] = [];
  const timer = startCheckTimer("*/5 * * * *", { run: () => runs.push(iso(Date.now())), missed: () => runs.push("missed") });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:05:00.000Z");
  vi.setSystemTime(T0 - 3_600_000);
  // The timer wakes when 09:05 was due, finds 08:05 on the clock, and plans 08:10.
  await vi.advanceTimersByTimeAsync(10 * 60_000);
  expect(runs).toEqual(["2026-12-03T08:10:00.000Z"]);
  await timer.stop();
});

it("an expression with node-cron's special day tokens runs on node-cron's own matcher too", async () => {
  vi.useFakeTimers({ now: T0 });
  const timer = startCheckTimer("0 0 L * *", { run: () => undefined, missed: () => undefined });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-31T00:00:00.000Z");
  await timer.stop();
});
