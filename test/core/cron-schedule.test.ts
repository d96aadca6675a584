// The schedule computed from node-cron's parse must run exactly when node-cron's own matcher would:
// each case is checked against node-cron's getNextRuns from the same fixed instant.
import cron from "node-cron";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextRunAfter, numericSchedule, planBeat, type NumericSchedule } from "../../src/core/cron-schedule.ts";

const schedule = (expression: string): NumericSchedule => {
  const s = numericSchedule(cron.parse(expression));
  if (!s) throw new Error(`${expression} is not numeric`);
  return s;
};

function ourRuns(expression: string, fromMs: number, count: number): string[] {
  const s = schedule(expression);
  const runs: string[] = [];
  let at = fromMs;
  for (let i = 0; i < count; i++) {
    const next = nextRunAfter(s, at);
    if (next === undefined) break;
    runs.push(new Date(next).toISOString());
    at = next;
  }
  return runs;
}

/** node-cron's own answer from the same instant (its getNextRuns starts at `new Date()`). */
function nodeCronRuns(expression: string, fromMs: number, count: number, timezone?: string): string[] {
  vi.useFakeTimers({ toFake: ["Date"], now: fromMs });
  const task = cron.createTask(expression, () => undefined, timezone === undefined ? {} : { timezone });
  try {
    return task.getNextRuns(count).map((d) => d.toISOString());
  } finally {
    void task.destroy();
    vi.useRealTimers();
  }
}

const EXPRESSIONS = [
  "*/5 * * * *",
  "* * * * * *",
  "*/2 * * * * *",
  "0 * * * *",
  "30 4 * * *",
  "15,45 */3 * * *",
  "0 9-17 * * 1-5",
  "0 0 * * 7",
  "0 0 1 * *",
  "0 12 31 * *",
  "0 0 29 2 *",
  "0 0 13 * 5",
  "10-20/5 8 * jan,jul mon",
  "@hourly",
  "@daily",
];

const INSTANTS = [
  Date.UTC(2026, 11, 3, 8, 59, 59, 500),
  Date.UTC(2026, 11, 31, 23, 59, 58),
  Date.UTC(2027, 1, 28, 12, 0, 0),
  Date.UTC(2028, 1, 28, 23, 59, 59, 999),
];

afterEach(() => {
  vi.useRealTimers();
});

describe("nextRunAfter", () => {
  for (const expression of EXPRESSIONS) {
    it(`${expression}: the next runs are node-cron's`, () => {
      for (const at of INSTANTS) expect(ourRuns(expression, at, 6)).toEqual(nodeCronRuns(expression, at, 6));
    });
  }

  describe("in a zone with daylight saving, as node-cron reads local time", () => {
    // The process's zone for ours; for node-cron the same zone given as its option, since Intl keeps
    // the zone it first read (node-cron caches its formatter).
    let tz: string | undefined;
    beforeEach(() => {
      tz = process.env.TZ;
      process.env.TZ = "Europe/Berlin";
    });
    afterEach(() => {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    });
    // The last Sundays of March and October 2027: 02:00 → 03:00 and 03:00 → 02:00 local time.
    const spring = Date.UTC(2027, 2, 27, 23, 0, 0);
    const autumn = Date.UTC(2027, 9, 30, 23, 0, 0);

    it("the same runs as node-cron's across both changes", () => {
      for (const expression of ["*/5 * * * *", "30 2 * * *", "0 * * * *", "0 3 * * *", "0 4 * * *"]) {
        expect(ourRuns(expression, spring, 5)).toEqual(nodeCronRuns(expression, spring, 5, "Europe/Berlin"));
      }
      for (const expression of ["*/5 * * * *", "0 3 * * *", "0 4 * * *", "0 0 * * *"]) {
        expect(ourRuns(expression, autumn, 5)).toEqual(nodeCronRuns(expression, autumn, 5, "Europe/Berlin"));
      }
    });

    it("a local time that happens twice when the clocks go back runs once, at its second occurrence, as in node-cron", () => {
      for (const expression of ["30 2 * * *", "*/20 2 * * *", "0 2 * * *", "15 * * * *", "*/30 * * * *"]) {
        expect(ourRuns(expression, autumn, 8)).toEqual(nodeCronRuns(expression, autumn, 8, "Europe/Berlin"));
      }
      expect(ourRuns("30 2 * * *", autumn, 2)).toEqual(["2027-10-31T01:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
    });
  });

  it("is strictly after the given instant's second", () => {
    const at = Date.UTC(2026, 11, 3, 9, 0, 0, 0);
    expect(nextRunAfter(schedule("*/5 * * * *"), at)).toBe(Date.UTC(2026, 11, 3, 9, 5, 0));
    expect(nextRunAfter(schedule("*/5 * * * *"), at - 1)).toBe(at);
  });

  it("a date that never comes is never (31 February, which node-cron's parse refuses anyway)", () => {
    const never = { ...schedule("0 0 1 1 *"), dayOfMonth: new Set([31]), month: new Set([2]) };
    expect(nextRunAfter(never, Date.UTC(2026, 0, 1))).toBeUndefined();
  });
});

describe("numericSchedule", () => {
  it("leaves node-cron's special day tokens to node-cron", () => {
    expect(numericSchedule(cron.parse("0 0 L * *"))).toBeUndefined();
    expect(numericSchedule(cron.parse("0 0 * * 5#2"))).toBeUndefined();
    expect(numericSchedule(cron.parse("0 0 * * *"))).toBeDefined();
  });
});

describe("planBeat (node-cron's rule for a timer that fires)", () => {
  const everyMinute = (ms: number) => nextRunAfter(schedule("* * * * *"), ms);
  const t0 = Date.UTC(2026, 11, 3, 9, 0, 0);

  it("on time or within the tolerance: runs, and plans the next", () => {
    expect(planBeat(t0, t0, 1000, everyMinute)).toEqual({ missed: [], run: t0, next: t0 + 60_000 });
    expect(planBeat(t0, t0 + 1000, 1000, everyMinute)).toEqual({ missed: [], run: t0, next: t0 + 60_000 });
  });

  it("early: waits for the same run", () => {
    expect(planBeat(t0, t0 - 1000, 1000, everyMinute)).toEqual({ missed: [], next: t0 });
  });

  it("after a sleep: the runs whose time passed are missed, the current one runs if it is within the tolerance", () => {
    expect(planBeat(t0, t0 + 3 * 60_000, 1000, everyMinute)).toEqual({ missed: [t0, t0 + 60_000, t0 + 120_000], run: t0 + 180_000, next: t0 + 240_000 });
    expect(planBeat(t0, t0 + 2 * 60_000 + 5000, 1000, everyMinute)).toEqual({ missed: [t0, t0 + 60_000, t0 + 120_000], next: t0 + 180_000 });
  });
});
