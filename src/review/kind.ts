// The code-review pipeline check as an entry of the check table: on with CODE_REVIEW_TRY_REPOSITORY
// and a Conduit token, reading its own queue (`…/try`) bound to Try; reported in /__heartbeat__, not
// judged (its health is Try's and Phabricator's, not this service's).
import { iso } from "../core/iso-time.ts";
import { pipelineOffReason } from "../config/config.ts";
import type { CheckContext, CheckInstance, CheckKind, RunReport } from "../run/check-kind.ts";
import { runnerPorts } from "../run/check-kind.ts";
import { createQueueCheckRunner } from "../run/run-queue-check.ts";
import { createReviewCheck } from "./check.ts";
import { REVIEW_FAILURE_REASONS, REVIEW_RUN_METRICS, declareReviewMetrics, registerReviewCollectors } from "./metrics.ts";
import { formatPipelineReport, type PipelineReport } from "./report.ts";
import { reviewsInFlightAt } from "./reviews.ts";
import { reviewView } from "./state.ts";
import { pipelineSection } from "./status.ts";

function create(context: CheckContext): CheckInstance {
  const { config, log } = context;
  const tryRepository = config.codeReviewTryRepository as string;
  const reviews = context.reviews;
  if (reviews === undefined) throw new Error("the code-review check needs Conduit (off without a token)");
  const check = createReviewCheck({
    tryRepository,
    queue: config.pulse.tryQueue,
    hgUrl: config.hgUrl,
    pushlog: context.pushlog,
    reviews,
    staleAfterMs: context.staleAfterMs,
    log: log.child({ component: "pipeline" }),
    now: context.now,
  });
  declareReviewMetrics(context.registry);
  const runner = createQueueCheckRunner(
    check,
    runnerPorts(context, { names: REVIEW_RUN_METRICS, subjects: check.subjects, reasons: REVIEW_FAILURE_REASONS, log: log.child({ component: "pipeline" }) }),
  );
  const view = () => reviewView(runner.state());
  registerReviewCollectors(context.registry, { view, staleAfterMs: context.staleAfterMs, now: context.now, log: log.child({ component: "metrics" }) });
  const runReport = (report: PipelineReport): RunReport => ({ ok: report.ok, lines: [formatPipelineReport(tryRepository, report)], json: report });
  return {
    name: "code_review",
    run: async (signal) => runReport(await runner.run(signal)),
    withoutRun(error, nowMs) {
      const summary = reviewsInFlightAt(view(), nowMs, context.staleAfterMs);
      return runReport({
        ok: false,
        errors: [error],
        messages: 0,
        tryPushes: { codeReview: 0, other: 0 },
        recovered: 0,
        finished: [],
        inFlight: summary?.count,
        oldestSeconds: summary?.oldestSeconds,
        durationMs: 0,
      });
    },
    status: (nowMs) => pipelineSection(view(), nowMs, context.staleAfterMs),
    health(nowMs) {
      const [subject] = runner.health(nowMs);
      return {
        healthy: subject?.healthy ?? false,
        details: {
          reviewsInFlight: reviewsInFlightAt(view(), nowMs, context.staleAfterMs) ?? null,
          lastSuccess: iso(subject?.lastSuccessAt),
          lastError: subject?.lastError ?? null,
        },
      };
    },
  };
}

export const reviewKind: CheckKind = {
  name: "code_review",
  jsonKey: "codeReviewPipeline",
  statusKey: "pipeline",
  heartbeatKey: "codeReviewPipeline",
  judged: false,
  off: (config) => pipelineOffReason(config),
  offNotice: (config, reason) => ({
    // Leaving it off is a choice, but one asked for by half (Try without a token) deserves a warning.
    level: config.codeReviewTryRepository ? "warn" : "info",
    msg: `code-review pipeline metrics are off: ${reason}`,
    fields: {
      reason,
      off: ["phabmon_try_push_latency_seconds", "phabmon_review_duration_seconds", "phabmon_reviews_in_flight", "phabmon_oldest_review_in_flight_seconds"],
    },
  }),
  queue: (config) => (config.codeReviewTryRepository ? { name: config.pulse.tryQueue, bindings: [config.codeReviewTryRepository] } : undefined),
  create,
};
