// The series of the HTTP clients of hg.mozilla.org and Phabricator (src/upstream/upstream.ts).
import { Counter, Histogram, type Registry } from "prom-client";

const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Set by the HTTP clients of hg.mozilla.org and Phabricator. */
export function upstreamMetrics(registry: Registry) {
  const metrics = {
    upstreamDuration: new Histogram({
      name: "phabmon_upstream_request_duration_seconds",
      help: "Duration of requests to hg.mozilla.org and Phabricator, retries included.",
      labelNames: ["service"],
      buckets: UPSTREAM_BUCKETS,
      registers: [registry],
    }),
    upstreamFailures: new Counter({
      name: "phabmon_upstream_request_failures_total",
      help: "Requests to hg.mozilla.org or Phabricator that failed after their retries.",
      labelNames: ["service"],
      registers: [registry],
    }),
    upstreamRetryable: new Counter({
      name: "phabmon_upstream_retryable_responses_total",
      help: "Attempts answered with a status that is retried (429 throttling, 5xx, a proxy's 502), by status; retried within the check's time budget, honouring Retry-After.",
      labelNames: ["service", "status"],
      registers: [registry],
    }),
  };
  for (const service of ["hgmo", "phabricator"]) metrics.upstreamFailures.inc({ service }, 0);
  return metrics;
}
export type UpstreamMetrics = ReturnType<typeof upstreamMetrics>;
