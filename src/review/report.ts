// What a code-review pipeline run reports: the Try pushes it read, the reviews that finished, those
// in flight, and why it failed; for the printed line of --once and --no-send, --json and the log.

export interface PipelineReport {
  ok: boolean;
  errors: string[];
  messages: number;
  tryPushes: { codeReview: number; other: number };
  recovered: number;
  finished: Array<{ diffPHID: string; outcome: "passed" | "failed"; seconds: number }>;
  inFlight: number | undefined;
  oldestSeconds: number | undefined;
  durationMs: number;
}

/** The printed line for a pipeline run, next to the replication lines. */
export function formatPipelineReport(tryRepository: string, report: PipelineReport): string {
  const inFlight = report.inFlight === undefined ? "unknown" : String(report.inFlight);
  const oldest = report.oldestSeconds === undefined ? "unknown" : String(report.oldestSeconds);
  const failure = report.ok ? "" : ` [check failed: ${report.errors.join("; ")}]`;
  return `${tryRepository} code-review pipeline: ${report.tryPushes.codeReview} code-review and ${report.tryPushes.other} other Try pushes read, ${report.finished.length} reviews finished, in flight: ${inFlight}, oldest in flight (seconds): ${oldest}${failure}`;
}
