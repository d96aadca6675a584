// When CHECK_SCHEDULE runs, computed here from node-cron's own parse of the expression (its expanded
// fields: node-cron stays the authority on what the expression means) instead of by node-cron's
// matcher. node-cron reads every instant's date parts through Intl.DateTimeFormat#formatToParts
// (node-cron dist/_shared.js, buildDateParts), and that first use of Intl maps about 5 MB of ICU data
// and costs ~40 ms at start: the steady state measured 90 MB instead of 98 MB without it (README,
// Performance). Only plain numeric fields are computed here; an expression with node-cron's special
// day tokens (L, W, #) is left to node-cron itself (src/check-timer.ts).
// Pure: instants are Unix milliseconds, read in the process's local time zone as node-cron reads them
// when no `timezone` is given.

/** The expanded fields of a six-field expression (seconds first), as node-cron's `parse` returns them. */
export interface CronFields {
  second: ReadonlyArray<number | string>;
  minute: ReadonlyArray<number | string>;
  hour: ReadonlyArray<number | string>;
  dayOfMonth: ReadonlyArray<number | string>;
  month: ReadonlyArray<number | string>;
  dayOfWeek: ReadonlyArray<number | string>;
}

export interface NumericSchedule {
  second: ReadonlySet<number>;
  minute: ReadonlySet<number>;
  hour: ReadonlySet<number>;
  dayOfMonth: ReadonlySet<number>;
  /** 1-12, as cron writes them. */
  month: ReadonlySet<number>;
  /** 0-6, Sunday 0. */
  dayOfWeek: ReadonlySet<number>;
}

const numbers = (field: ReadonlyArray<number | string>): Set<number> | undefined =>
  field.every((v): v is number => typeof v === "number") ? new Set(field) : undefined;

/** The schedule as sets of numbers, or undefined when a field holds one of node-cron's special tokens. */
export function numericSchedule(fields: CronFields): NumericSchedule | undefined {
  const second = numbers(fields.second);
  const minute = numbers(fields.minute);
  const hour = numbers(fields.hour);
  const dayOfMonth = numbers(fields.dayOfMonth);
  const month = numbers(fields.month);
  // node-cron reads 7 as Sunday too.
  const dayOfWeek = numbers(fields.dayOfWeek.map((d) => (d === 7 ? 0 : d)));
  if (!second || !minute || !hour || !dayOfMonth || !month || !dayOfWeek) return undefined;
  return { second, minute, hour, dayOfMonth, month, dayOfWeek };
}

/** Beyond this a schedule is taken never to run again (node-cron's fields can name 31 February). */
const SEARCH_YEARS = 8;

/**
 * The first whole second after `afterMs` that the schedule runs at, or undefined when it never does.
 * Every field must match (node-cron's TimeMatcher: day of month AND day of week), in local time;
 * it steps a month, a day, an hour or a minute at a time past whatever does not match.
 */
export function nextRunAfter(schedule: NumericSchedule, afterMs: number): number | undefined {
  const t = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
  const limit = t.getFullYear() + SEARCH_YEARS;
  while (t.getFullYear() <= limit) {
    if (!schedule.month.has(t.getMonth() + 1)) {
      t.setMonth(t.getMonth() + 1, 1);
      t.setHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.dayOfMonth.has(t.getDate()) || !schedule.dayOfWeek.has(t.getDay())) {
      t.setDate(t.getDate() + 1);
      t.setHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hour.has(t.getHours())) {
      // Through setTime, not setHours: across a daylight-saving change the next hour is an hour on.
      t.setTime(t.getTime() + 3_600_000 - (t.getMinutes() * 60 + t.getSeconds()) * 1000);
      continue;
    }
    if (!schedule.minute.has(t.getMinutes())) {
      t.setTime(t.getTime() + 60_000 - t.getSeconds() * 1000);
      continue;
    }
    if (!schedule.second.has(t.getSeconds())) {
      t.setTime(t.getTime() + 1000);
      continue;
    }
    return laterOccurrence(t.getTime());
  }
  return undefined;
}

/**
 * When the clocks go back, a wall time happens twice; node-cron runs it once, at its second
 * occurrence (checked against node-cron in test/core/cron-schedule.test.ts), and so does this.
 */
function laterOccurrence(ms: number): number {
  const at = new Date(ms);
  const repeat = ms + (new Date(ms + 3 * 3_600_000).getTimezoneOffset() - at.getTimezoneOffset()) * 60_000;
  if (repeat <= ms) return ms;
  const again = new Date(repeat);
  const same =
    again.getDate() === at.getDate() && again.getHours() === at.getHours() && again.getMinutes() === at.getMinutes() && again.getSeconds() === at.getSeconds();
  return same ? repeat : ms;
}

/** What a timer that woke at `nowMs` for the run it expected at `expectedMs` does. */
export interface Beat {
  /** The run to start now, when there is one. */
  run?: number;
  /** Runs whose time passed while the process was busy or asleep: reported, not run. */
  missed: number[];
  /** When to wake next; undefined when the schedule never runs again. */
  next: number | undefined;
}

/**
 * node-cron's rule for a timer that fires (node-cron dist/_shared.js, planBeat): a run that is late
 * by at most `toleranceMs`, and by less than the time to the run after it, runs; any older one is
 * missed. `nextAfter` is the schedule's next-run function.
 */
export function planBeat(expectedMs: number, nowMs: number, toleranceMs: number, nextAfter: (ms: number) => number | undefined): Beat {
  const missed: number[] = [];
  let slot = expectedMs;
  for (;;) {
    if (nowMs < slot) return { missed, next: slot };
    const next = nextAfter(slot);
    if (next === undefined) return { missed, ...(nowMs - slot <= toleranceMs ? { run: slot } : {}), next: undefined };
    const lateBy = nowMs - slot;
    if (lateBy <= toleranceMs && lateBy < next - slot) return { missed, run: slot, next };
    missed.push(slot);
    slot = next;
  }
}
