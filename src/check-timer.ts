// The timer that starts a check at each run of CHECK_SCHEDULE. A plain numeric expression (every one
// an operator has used: `*/5 * * * *`) is timed here over src/core/cron-schedule.ts, with no Intl;
// one with node-cron's special day tokens (L, W, #) is handed to node-cron's own scheduler.
import cron from "node-cron";
import { nextRunAfter, numericSchedule, planBeat } from "./core/cron-schedule.ts";

export interface CheckTimer {
  /** When the next check is due; undefined once stopped or when the schedule never runs again. */
  nextRun(): Date | undefined;
  stop(): Promise<void>;
}

export interface CheckTimerHandlers {
  run: () => void;
  /** A run whose time passed while the process was busy or asleep. */
  missed: () => void;
}

/** node-cron's default: a run more than a second late is missed. */
const MISSED_TOLERANCE_MS = 1000;
/** setTimeout takes at most 2^31-1 ms; a run further away is approached a day at a time, as node-cron does. */
const MAX_DELAY_MS = 86_400_000;

export function startCheckTimer(expression: string, handlers: CheckTimerHandlers, now: () => number = Date.now): CheckTimer {
  const schedule = numericSchedule(cron.parse(expression));
  if (schedule === undefined) {
    const task = cron.schedule(expression, () => handlers.run(), { name: "check", noOverlap: true });
    task.on("execution:missed", () => handlers.missed());
    return { nextRun: () => task.getNextRun() ?? undefined, stop: async () => void (await task.destroy()) };
  }
  const nextAfter = (ms: number) => nextRunAfter(schedule, ms);
  // Strictly after the current second, as node-cron starts (getNextMatch of now without its milliseconds).
  let expected = nextAfter(now());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped || expected === undefined) return;
    timer = setTimeout(beat, Math.min(MAX_DELAY_MS, Math.max(0, expected - now())));
  };
  function beat(): void {
    if (expected === undefined) return;
    const plan = planBeat(expected, Math.floor(now() / 1000) * 1000, MISSED_TOLERANCE_MS, nextAfter);
    expected = plan.next;
    for (const _ of plan.missed) handlers.missed();
    if (plan.run !== undefined) handlers.run();
    arm();
  }
  arm();
  return {
    nextRun: () => (stopped || expected === undefined ? undefined : new Date(expected)),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      return Promise.resolve();
    },
  };
}
