// One run of every check of the table, as --once (and each scheduled run) does it: the scheduler runs
// them in order, and each check's report, or its report of a run that did not happen, becomes the
// printed lines, the JSON document and the exit code.
import type { RunReport } from "../run/check-kind.ts";
import type { RunResult } from "../run/scheduler.ts";
import type { App } from "./build-app.ts";

export interface CheckResult {
  /** Every check completed (lagging or not). */
  ok: boolean;
  /** Each check that runs, in the table's order, with its report. */
  reports: ReadonlyArray<{ name: string; jsonKey: string | undefined; report: RunReport }>;
  /** The keys of the checks that are off, for --json's nulls. */
  off: readonly string[];
}

function withoutRunReason(run: RunResult<unknown> | undefined): string {
  if (run === undefined) return "check stopped";
  if (run.status === "skipped") return "the previous check has not ended; this one was skipped";
  return run.status === "failed" ? run.error : "check failed";
}

/** What one run of every check produced; a check whose run did not complete reports unknown. */
export async function runChecks(app: App, signal: AbortSignal = new AbortController().signal): Promise<CheckResult> {
  const results = await app.scheduler.runAll(signal);
  const nowMs = Date.now();
  const reports = app.table.flatMap(({ kind, check }) => {
    if (check === undefined) return [];
    const run = results.get(check.name);
    const report = run?.status === "done" ? (run.report as RunReport) : check.withoutRun(withoutRunReason(run), nowMs);
    return [{ name: check.name, jsonKey: kind.jsonKey, report }];
  });
  const everyRunDone = app.checks.every((c) => results.get(c.name)?.status === "done");
  const off = app.table.flatMap(({ kind, check }) => (check === undefined && kind.jsonKey !== undefined ? [kind.jsonKey] : []));
  return { ok: everyRunDone && reports.every((r) => r.report.ok), reports, off };
}

/** One run, then close everything. */
export async function runOnce(app: App, signal?: AbortSignal): Promise<CheckResult> {
  try {
    return await runChecks(app, signal);
  } finally {
    await app.close();
  }
}

/** The printed lines of a run: each check's, in the table's order. */
export const resultLines = (result: CheckResult): string[] => result.reports.flatMap((r) => r.report.lines);

/** `--once --json`: the same facts as the lines, one key per check (null when it is off). */
export function resultJson(result: CheckResult): Record<string, unknown> {
  const json: Record<string, unknown> = { ok: result.ok };
  for (const { jsonKey, report } of result.reports) if (jsonKey !== undefined) json[jsonKey] = report.json;
  for (const key of result.off) json[key] = null;
  return json;
}
