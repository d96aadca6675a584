// The code-review pipeline check's series, on the app's registry, created only when the pipeline is
// measured: what its runs measure (Try push latency, review time, Try pushes read, reviews dropped or
// recovered), and what a scrape computes from the reviews in flight it published.
import type { FailureReason } from "../run/check-failure.ts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CollectorLog } from "../run/lag-gauge.ts";
import { reviewsInFlightAt, type ReviewView } from "./reviews.ts";

/** Seconds; boundaries at the 12 and 15 minutes of a good day's review, and out to the 24 h bound. */
const PIPELINE_BUCKETS = [60, 120, 300, 480, 600, 720, 900, 1200, 1800, 2700, 3600, 7200, 14400, 43200, 86400];

/** The values its failures' `reason` label can take (src/run/check-failure.ts): each series exists from the start. */
export const REVIEW_FAILURE_REASONS = [
  "queue",
  "queue_shared",
  "pushlog",
  "recovery",
  "poll",
  "input",
  "settle",
  "stopped",
] as const satisfies readonly FailureReason[];

export const REVIEW_RUN_METRICS = {
  checks: { name: "phabmon_pipeline_checks_total", help: "Checks of the code-review pipeline, completed or failed." },
  failures: {
    name: "phabmon_pipeline_check_failures_total",
    help: `Checks of the code-review pipeline that could not complete (broker, hg or Phabricator failure), by reason: the step that failed, or what went wrong (${REVIEW_FAILURE_REASONS.join(", ")}).`,
  },
  lastSuccess: {
    name: "phabmon_last_pipeline_check_success_timestamp_seconds",
    help: "Unix time of the last check of the code-review pipeline that completed.",
  },
};

export function declareReviewMetrics(registry: Registry): void {
  const registers = [registry];
  new Histogram({
    name: "phabmon_try_push_latency_seconds",
    help: "Per code-review diff: from the diff's creation in Phabricator (dateCreated) to the time of the code-review bot's Try push that carries it.",
    buckets: PIPELINE_BUCKETS,
    registers,
  });
  const duration = new Histogram({
    name: "phabmon_review_duration_seconds",
    help: "Per code-review diff: from the diff's creation to the completion (epochCompleted) of its Harbormaster build target, by outcome.",
    labelNames: ["outcome"],
    buckets: PIPELINE_BUCKETS,
    registers,
  });
  const tryPushes = new Counter({
    name: "phabmon_try_pushes_total",
    help: "Try pushes read, by kind: code_review (the bot's, measured) or other (people's own, not measured); counted once their message is acked.",
    labelNames: ["kind"],
    registers,
  });
  const dropped = new Counter({
    name: "phabmon_reviews_dropped_total",
    help: "Reviews that stopped being tracked without a measure: expired (no result within 24 h), overflow (too many in flight), aborted (the build target was aborted), no_target (its Try push names no build target).",
    labelNames: ["reason"],
    registers,
  });
  const recovered = new Counter({
    name: "phabmon_reviews_recovered_total",
    help: "Reviews in flight found again at start-up from build targets still waiting for a result.",
    registers,
  });
  for (const kind of ["code_review", "other"]) tryPushes.inc({ kind }, 0);
  for (const reason of ["expired", "overflow", "aborted"]) dropped.inc({ reason }, 0);
  recovered.inc(0);
  for (const outcome of ["passed", "failed"]) duration.zero({ outcome });
}

/** phabmon_reviews_in_flight, how many are stuck and the oldest's age, at each scrape, from what the check published. */
export function registerReviewCollectors(
  registry: Registry,
  options: { view: () => ReviewView; staleAfterMs: number; now: () => number; log?: CollectorLog },
): void {
  const { view, staleAfterMs, now, log } = options;
  const inFlight = () => {
    try {
      return reviewsInFlightAt(view(), now(), staleAfterMs);
    } catch (error) {
      log?.warn({ err: error }, "review collector failed");
      return undefined;
    }
  };
  const registers = [registry];
  new Gauge({
    name: "phabmon_reviews_in_flight",
    help: "Diffs pushed to Try (or found waiting at start-up) whose build target has no result yet; NaN until the service knows.",
    registers,
    collect() {
      this.set(inFlight()?.count ?? Number.NaN);
    },
  });
  new Gauge({
    name: "phabmon_reviews_stuck",
    help: "Reviews in flight for more than 2 hours since their diff's creation (PhabmonReviewsStuck counts them); NaN until the service knows.",
    registers,
    collect() {
      this.set(inFlight()?.stuck ?? Number.NaN);
    },
  });
  new Gauge({
    name: "phabmon_oldest_review_in_flight_seconds",
    help: "Age, from its diff's creation, of the oldest review in flight; 0 when none is; NaN until the service knows.",
    registers,
    collect() {
      this.set(inFlight()?.oldestSeconds ?? Number.NaN);
    },
  });
}
