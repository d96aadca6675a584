// How one check has been running, as a value: when it last started and ended, whether it completed,
// and how many runs in a row failed. The scheduler (src/run/scheduler.ts) tells it each run's end; the
// policy, in the spirit of taskcluster's lib-iterate (taskcluster/taskcluster libraries/iterate:
// maxIterationTime, maxFailures), is here. Unlike lib-iterate the service does not exit after too many
// failures: a monitor that restarts loses what it holds in memory and tells nobody more; it says it
// loudly once and shows it in /__heartbeat__. Pure.

export interface CheckRunPolicy {
  /** A run still going after this long is stopped and counted as failed. */
  maxRunMs: number;
  /** A run told to stop that has not stopped this long after is no longer waited for (it is abandoned). */
  stopGraceMs: number;
  /** Failed runs in a row after which the check is reported as failing (logged once per streak). */
  maxConsecutiveFailures: number;
}

export interface CheckRuns {
  readonly lastStartedAt: number | undefined;
  readonly lastEndedAt: number | undefined;
  /** Whether the last run completed; undefined before the first ends. */
  readonly lastOk: boolean | undefined;
  readonly consecutiveFailures: number;
  /** Runs stopped at the maximum run time, since start. */
  readonly timedOut: number;
  /**
   * A run is going: from its start until it settles, which for a run abandoned after the maximum run
   * time is later than the end the scheduler counted. While it is, the next run is skipped.
   */
  readonly running: boolean;
}

export const NO_RUNS: CheckRuns = { lastStartedAt: undefined, lastEndedAt: undefined, lastOk: undefined, consecutiveFailures: 0, timedOut: 0, running: false };

export function runsAfterStart(runs: CheckRuns, atMs: number): CheckRuns {
  return { ...runs, lastStartedAt: atMs, running: true };
}

/** The run's promise settled: an abandoned run is over at last. */
export function runsAfterSettle(runs: CheckRuns): CheckRuns {
  return { ...runs, running: false };
}

export interface RunEnd {
  ok: boolean;
  /** The run was stopped at the maximum run time. */
  timedOut: boolean;
  atMs: number;
  /** A run is still going though this one is counted as ended: it was abandoned, or this run was skipped for it. */
  stillRunning: boolean;
}

/**
 * After a run: the streak of failures grows or ends. `escalate` is true exactly when this run makes
 * the streak reach the policy's limit, so the caller logs it once, not at every failure after it.
 */
export function runsAfterEnd(runs: CheckRuns, end: RunEnd, policy: CheckRunPolicy): { runs: CheckRuns; escalate: boolean; recovered: boolean } {
  const consecutiveFailures = end.ok ? 0 : runs.consecutiveFailures + 1;
  return {
    runs: { ...runs, lastEndedAt: end.atMs, lastOk: end.ok, consecutiveFailures, timedOut: runs.timedOut + (end.timedOut ? 1 : 0), running: end.stillRunning },
    escalate: !end.ok && consecutiveFailures === policy.maxConsecutiveFailures,
    recovered: end.ok && runs.consecutiveFailures >= policy.maxConsecutiveFailures,
  };
}

/** Whether a run has been going on past the maximum run time at `nowMs` (a stop that did not take). */
export function runOverdue(runs: CheckRuns, nowMs: number, policy: CheckRunPolicy): boolean {
  return runs.running && runs.lastStartedAt !== undefined && nowMs - runs.lastStartedAt > policy.maxRunMs;
}

/** The heartbeat's view of a check's runs. */
export function runsSummary(runs: CheckRuns, nowMs: number, policy: CheckRunPolicy) {
  return {
    consecutiveFailures: runs.consecutiveFailures,
    failing: runs.consecutiveFailures >= policy.maxConsecutiveFailures,
    lastRun: runs.lastEndedAt === undefined ? null : new Date(runs.lastEndedAt).toISOString(),
    lastRunOk: runs.lastOk ?? null,
    running: runs.running,
    overdue: runOverdue(runs, nowMs, policy),
    timedOut: runs.timedOut,
  };
}
