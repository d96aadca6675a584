// The check contract and the loop that runs the checks: in order, never two runs of one check at
// once, each stopped at a maximum run time, and a streak of failures logged once and shown in
// /__heartbeat__ (the policy is src/run/check-runs.ts). The clock that says *when* to run is the
// caller's (a cron schedule in the service, once for --once).
import type { Logger } from "pino";
import { NO_RUNS, runsAfterEnd, runsAfterSettle, runsAfterStart, runsSummary, type CheckRunPolicy, type CheckRuns } from "./check-runs.ts";

export interface CheckReportLike {
  /** The check completed (its numbers can be believed), lagging or not. */
  ok: boolean;
}

export interface Check<R extends CheckReportLike = CheckReportLike> {
  readonly name: string;
  /** One run; resolves with the check's report. It must stop soon after `signal` aborts. */
  run(signal: AbortSignal): Promise<R>;
}

export type RunResult<R> = { status: "done"; report: R } | { status: "skipped" } | { status: "failed"; error: string };

export interface Scheduler {
  /** Runs every check once, in order, and resolves with what each did, by name. */
  runAll(signal: AbortSignal): Promise<Map<string, RunResult<CheckReportLike>>>;
  /** Per check: the heartbeat's view of its runs. */
  summary(nowMs: number): Record<string, ReturnType<typeof runsSummary>>;
}

export function createScheduler(options: {
  checks: readonly Check[];
  policy: CheckRunPolicy;
  log: Logger;
  now: () => number;
  /** Told of a run that threw: a bug, for the error reports. */
  onUnexpected?: (error: unknown, check: string) => void;
}): Scheduler {
  const { checks, policy, log, now, onUnexpected } = options;
  let runs: ReadonlyMap<string, CheckRuns> = new Map(checks.map((c) => [c.name, NO_RUNS]));
  const runsOf = (name: string): CheckRuns => runs.get(name) ?? NO_RUNS;
  const update = (name: string, next: CheckRuns) => {
    runs = new Map(runs).set(name, next);
  };

  async function runOne(check: Check, signal: AbortSignal): Promise<RunResult<CheckReportLike>> {
    if (runsOf(check.name).running) {
      log.warn({ check: check.name }, "the previous run of this check has not ended; this run is skipped");
      // Nothing was checked: a failure in the streak like any other.
      account(check, { status: "skipped" }, { timedOut: false, stillRunning: true });
      return { status: "skipped" };
    }
    update(check.name, runsAfterStart(runsOf(check.name), now()));
    const { result, timedOut, thrown } = await runWithinLimits(check, signal, policy, () => update(check.name, runsAfterSettle(runsOf(check.name))));
    // A check reports upstream failures in its report; one that throws met a bug.
    if (thrown !== undefined) onUnexpected?.(thrown, check.name);
    account(check, result, { timedOut, stillRunning: runsOf(check.name).running }, thrown);
    return result;
  }

  function account(check: Check, result: RunResult<CheckReportLike>, how: { timedOut: boolean; stillRunning: boolean }, thrown?: unknown): void {
    const ok = result.status === "done" && result.report.ok;
    const ended = runsAfterEnd(runsOf(check.name), { ok, atMs: now(), ...how }, policy);
    update(check.name, ended.runs);
    // The error itself when the run threw (its type and stack say where); otherwise why the run was given up.
    if (result.status === "failed")
      log.error({ check: check.name, ...(thrown === undefined ? { reason: result.error } : { err: thrown }) }, "check run failed");
    if (ended.escalate) {
      log.error(
        { check: check.name, consecutiveFailures: ended.runs.consecutiveFailures },
        `check has failed ${ended.runs.consecutiveFailures} times in a row`,
      );
    }
    if (ended.recovered) log.info({ check: check.name }, "check completed again after failing in a row");
  }

  return {
    async runAll(signal) {
      const results = new Map<string, RunResult<CheckReportLike>>();
      for (const check of checks) {
        if (signal.aborted) break;
        results.set(check.name, await runOne(check, signal));
      }
      return results;
    },
    summary(nowMs) {
      return Object.fromEntries(checks.map((c) => [c.name, runsSummary(runsOf(c.name), nowMs, policy)]));
    },
  };
}

/**
 * The default policy for a schedule: most of the interval, between one and thirty minutes (a check of
 * 5,000 pushes takes seconds: bench/README.md); three failures, as PhabmonChecksFailing counts.
 */
/**
 * One run, stopped at the maximum run time or with the caller's signal, and given up (abandoned, its
 * result ignored) when it has not stopped within the grace after being told to. `settled` is called
 * when the run really ends, abandoned or not.
 */
async function runWithinLimits(
  check: Check,
  signal: AbortSignal,
  policy: CheckRunPolicy,
  settled: () => void,
): Promise<{ result: RunResult<CheckReportLike>; timedOut: boolean; thrown: unknown }> {
  const deadline = AbortSignal.timeout(policy.maxRunMs);
  const stop = AbortSignal.any([signal, deadline]);
  const running = check.run(stop).finally(settled);
  let giveUp: NodeJS.Timeout | undefined;
  const abandoned = new Promise<"abandoned">((resolve) => {
    const arm = () => {
      giveUp = setTimeout(() => resolve("abandoned"), policy.stopGraceMs);
      giveUp.unref();
    };
    if (stop.aborted) arm();
    else stop.addEventListener("abort", arm, { once: true });
  });
  try {
    const outcome = await Promise.race([running, abandoned]);
    const result: RunResult<CheckReportLike> =
      outcome === "abandoned"
        ? { status: "failed", error: `did not stop within ${policy.stopGraceMs / 1000} s of being told to` }
        : deadline.aborted && !outcome.ok
          ? { status: "failed", error: `stopped after the maximum run time of ${policy.maxRunMs / 1000} s` }
          : { status: "done", report: outcome };
    return { result, timedOut: deadline.aborted, thrown: undefined };
  } catch (error) {
    return { result: { status: "failed", error: (error as Error).message }, timedOut: deadline.aborted, thrown: error };
  } finally {
    clearTimeout(giveUp);
    // A run that was abandoned still ends some day; until then the check is skipped, never doubled.
    running.catch(() => undefined);
  }
}

export function defaultRunPolicy(checkIntervalMs: number): CheckRunPolicy {
  // 5 s to stop: a check's HTTP requests and its settle are aborted by the signal within milliseconds.
  return { maxRunMs: Math.min(30 * 60_000, Math.max(60_000, Math.floor(0.8 * checkIntervalMs))), stopGraceMs: 5000, maxConsecutiveFailures: 3 };
}
