// The three series every check has (under its own names, which dashboards and alerts know): how many
// runs, how many failed and why (`reason`, check-failure.ts), and when one last completed.
import { Counter, Gauge, type Registry } from "prom-client";
import { FAILURE_REASONS, failureReason, type CheckFailure, type FailureReason } from "./check-failure.ts";

export interface RunMetrics {
  /** One run of one subject: counted, and its failure's reason or its success's time. */
  ran(labels: Readonly<Record<string, string>>, failure: CheckFailure | undefined, atMs: number): void;
}

export interface RunMetricNames {
  checks: { name: string; help: string };
  failures: { name: string; help: string };
  lastSuccess: { name: string; help: string };
}

/**
 * Declares a check's run metrics on `registry`, labelled by its subjects' label names (and `reason`
 * for the failures); every series that will exist is exported from the start, at zero.
 */
export function runMetrics(
  registry: Registry,
  names: RunMetricNames,
  subjects: ReadonlyArray<{ labels: Readonly<Record<string, string>> }>,
  /** The reasons this check can fail for: their series exist from the start. */
  reasons: readonly FailureReason[] = FAILURE_REASONS,
): RunMetrics {
  const labelNames = Object.keys(subjects[0]?.labels ?? {});
  const checks = new Counter({ ...names.checks, labelNames, registers: [registry] });
  const failures = new Counter({ ...names.failures, labelNames: [...labelNames, "reason"], registers: [registry] });
  const lastSuccess = new Gauge({ ...names.lastSuccess, labelNames, registers: [registry] });
  for (const { labels } of subjects) {
    checks.inc(labels, 0);
    for (const reason of reasons) failures.inc({ ...labels, reason }, 0);
  }
  return {
    ran(labels, failure, atMs) {
      checks.inc(labels);
      if (failure === undefined) lastSuccess.set(labels, atMs / 1000);
      else failures.inc({ ...labels, reason: failureReason(failure) });
    },
  };
}
