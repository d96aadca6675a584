// Why a check, or one repository's part of it, could not be done, kept as a value until the report:
// the step that failed, the service at fault, and the error as it was thrown. The report turns it
// into the printed line and the heartbeat's lastError (`message`) and into the `reason` label of
// phabmon_check_failures_total (`failureReason`), so an on-call engineer can tell a Phabricator outage
// from a wrong callsign without reading logs.
import { UnknownRepositoryError } from "../mirror/mirror.ts";

/** The step that failed: the queue, the pushlog, the mirror, the input itself, the settle; and the code-review check's read-back and polling. */
export type CheckStep = "queue" | "gap_search" | "pushlog" | "mirror" | "input" | "settle" | "recovery" | "poll";
export type FailureService = "pulse" | "hgmo" | "phabricator";

export interface CheckFailure {
  readonly step: CheckStep;
  readonly service: FailureService;
  /** The error as thrown, or one made for a failure nothing threw (another consumer on the queue). */
  readonly cause: Error;
  /** The sentence the printed line and /__heartbeat__ show. */
  readonly message: string;
}

/** The check was stopped (SIGTERM, or its maximum run time): not a fault of any service. */
export class CheckStoppedError extends Error {
  constructor() {
    super("check stopped");
    this.name = "CheckStoppedError";
  }
}

/** Another consumer reads the queue, so this check sees part of it only. */
export class SharedQueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SharedQueueError";
  }
}

/**
 * @param options.context words put before the cause's message, e.g. "looking for pushes that never arrived".
 * @param options.signal the check's: once it is aborted, whatever was thrown is the stop, not a fault.
 */
export function checkFailure(
  step: CheckStep,
  service: FailureService,
  cause: unknown,
  options: { context?: string; signal?: AbortSignal | undefined } = {},
): CheckFailure {
  const { context, signal } = options;
  const error = signal?.aborted ? new CheckStoppedError() : cause instanceof Error ? cause : new Error(String(cause));
  return { step, service, cause: error, message: context === undefined ? error.message : `${context}: ${error.message}` };
}

/** The values of the `reason` label, a fixed set so that every series can exist from the start. */
export const FAILURE_REASONS = [
  "queue",
  "queue_shared",
  "gap_search",
  "pushlog",
  "mirror",
  "unknown_repository",
  "input",
  "settle",
  "stopped",
  "recovery",
  "poll",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export function failureReason(failure: CheckFailure): FailureReason {
  if (failure.cause instanceof CheckStoppedError) return "stopped";
  if (failure.cause instanceof UnknownRepositoryError) return "unknown_repository";
  if (failure.cause instanceof SharedQueueError) return "queue_shared";
  return failure.step;
}
