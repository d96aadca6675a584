// The CHECK_SCHEDULE timer over fake timers: a run at each scheduled second, none after stop, missed
// runs reported after the process slept, and node-cron's own scheduler for its special tokens.
import { afterEach, expect, it, vi } from "vitest";
import { startCheckTimer } from "../src/check-timer.ts";

afterEach(() => {
  vi.useRealTimers();
});

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0, 400);

it("runs at every run of the schedule, says when the next is, and stops", async () => {
  vi.useFakeTimers({ now: T0 });
  const runs: number[] = [];
  const timer = startCheckTimer("*/2 * * * * *", { run: () => runs.push(Date.now()), missed: () => runs.push(-1) });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:00:02.000Z");
  await vi.advanceTimersByTimeAsync(6000);
  expect(runs.map((t) => new Date(t).toISOString())).toEqual(["2026-12-03T09:00:02.000Z", "2026-12-03T09:00:04.000Z", "2026-12-03T09:00:06.000Z"]);
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:00:08.000Z");
  await timer.stop();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(runs).toHaveLength(3);
  expect(timer.nextRun()).toBeUndefined();
});

it("a run whose time passed while the timer could not fire is reported missed, not run late", async () => {
  vi.useFakeTimers({ now: T0 });
  const runs: string[] = [];
  const missed: string[] = [];
  let clock = T0;
  // The clock jumps 3.5 minutes (a suspended process) before the first timer fires.
  const timer = startCheckTimer(
    "* * * * *",
    { run: () => runs.push(new Date(clock).toISOString()), missed: () => missed.push(new Date(clock).toISOString()) },
    () => clock,
  );
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:01:00.000Z");
  clock = T0 + 3.5 * 60_000;
  await vi.advanceTimersByTimeAsync(60_000);
  expect(runs).toEqual([]);
  expect(missed).toHaveLength(3);
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-03T09:04:00.000Z");
  await timer.stop();
});

it("an expression with node-cron's special day tokens is timed by node-cron itself", async () => {
  vi.useFakeTimers({ now: T0 });
  const timer = startCheckTimer("0 0 L * *", { run: () => undefined, missed: () => undefined });
  expect(timer.nextRun()?.toISOString()).toBe("2026-12-31T00:00:00.000Z");
  await timer.stop();
});
