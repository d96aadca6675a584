// The timer that starts a check at each run of CHECK_SCHEDULE. node-cron says when the schedule runs
// (a task it creates stopped, asked with getNextRuns: its own matcher, local time and DST included);
// this loop decides what happens when the clock does not go as planned, where node-cron's own runner
// would skip a run more than a second late and, after the clock went back, wait out the jump before
// running again (node-cron dist/_shared.js, Runner#start and planBeat).
import cron from "node-cron";

export interface CheckTimer {
  /** When the next check is due; undefined once stopped or when the schedule never runs again. */
  nextRun(): Date | undefined;
  stop(): Promise<void>;
}

/** Runs that did not happen when due: one report per gap, whatever the number of slots in it. */
export interface MissedRuns {
  /** The first run that was missed. */
  due: Date;
  /** How late the timer woke, in ms. */
  lateMs: number;
}

export interface CheckTimerHandlers {
  run: () => void;
  /** The timer woke after one or more runs were due (the process was busy or asleep): the latest is run now. */
  missed: (gap: MissedRuns) => void;
}

/** A run later than this is a missed one (node-cron's default tolerance): reported, then run once. */
const MISSED_TOLERANCE_MS = 1000;
/** setTimeout takes at most 2^31-1 ms; a run further away is approached a day at a time, as node-cron does. */
const MAX_DELAY_MS = 86_400_000;

export function startCheckTimer(expression: string, handlers: CheckTimerHandlers): CheckTimer {
  const schedule = cron.createTask(expression, () => undefined);
  const nextAfterNow = (): number | undefined => schedule.getNextRuns(1)[0]?.getTime();
  let expected = nextAfterNow();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped || expected === undefined) return;
    timer = setTimeout(beat, Math.min(MAX_DELAY_MS, Math.max(0, expected - Date.now())));
  };
  function beat(): void {
    if (expected === undefined) return;
    const now = Date.now();
    // Woken before the run is due: a day-long wait in steps, or the clock went back (the timer keeps
    // monotonic time). Either way the next run is planned again from the clock as it is now.
    if (now < expected - MISSED_TOLERANCE_MS) {
      expected = nextAfterNow();
      return arm();
    }
    if (now - expected > MISSED_TOLERANCE_MS) handlers.missed({ due: new Date(expected), lateMs: now - expected });
    handlers.run();
    expected = nextAfterNow();
    arm();
  }
  arm();
  return {
    nextRun: () => (stopped || expected === undefined ? undefined : new Date(expected)),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await schedule.destroy();
    },
  };
}
