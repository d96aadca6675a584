// Every metric the service exports, on its own registry (the names the README's "Metrics" section
// lists), grouped by the source that sets them: each part of the service is given only its own group.
// Values that depend on the instant of the scrape (the lag, the reviews in flight) are computed by
// collectors from values the checks publish (src/run/board.ts), never by calling into a check.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Repository } from "../config/config.ts";
import type { Board } from "../run/board.ts";
import { lagSeconds, type RepositoryState } from "../run/lag.ts";
import { reviewsInFlightAt, type ReviewView } from "../review/reviews.ts";
import type { DepthReading } from "../pulse/queue-watch.ts";
import { mirrorName } from "../mirror/mirror.ts";
import { FAILURE_REASONS } from "../run/check-failure.ts";
import { STATUSES } from "../replication/repository-status.ts";
import type { StatusDocument } from "./status-document.ts";

/** Seconds; a boundary at each alert threshold (15 min, 1 h) and out to the two-day lags seen before. */
const DELAY_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800];
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds; boundaries at the 12 and 15 minutes of a good day's review, and out to the 24 h bound. */
const PIPELINE_BUCKETS = [60, 120, 300, 480, 600, 720, 900, 1200, 1800, 2700, 3600, 7200, 14400, 43200, 86400];

/** prom-client's event-loop series: all are set by one collector, which the registry then no longer runs. */
const EVENT_LOOP_SERIES = ["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"].map((s) => `nodejs_eventloop_lag${s}_seconds`);

/**
 * prom-client's event-loop collector reads the delay histogram's mean and standard deviation at every
 * scrape, and Node computes each by walking the whole histogram: 0.4 ms, more than a tenth of a scrape's
 * CPU on the 2-core machines here. Min, max and percentiles of the same histogram cost microseconds:
 * those series are kept under prom-client's names and meaning (the delays since the last scrape).
 */
function replaceEventLoopCollector(registry: Registry): void {
  for (const name of EVENT_LOOP_SERIES) registry.removeSingleMetric(name);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const stats: Array<[string, () => number]> = [
    ["min", () => histogram.min],
    ["max", () => histogram.max],
    ["p50", () => histogram.percentile(50)],
    ["p90", () => histogram.percentile(90)],
    ["p99", () => histogram.percentile(99)],
  ];
  const gauges = stats.map(
    ([stat], i) =>
      new Gauge({
        name: `nodejs_eventloop_lag_${stat}_seconds`,
        help: `The ${stat} of the event loop delays recorded since the last scrape.`,
        registers: [registry],
        // The registry reads its metrics in order: the first one's collect sets all of them.
        ...(i === 0 ? { collect: () => setAll() } : {}),
      }),
  );
  const setAll = () => {
    // Nothing recorded since the last scrape (scrapes closer than the 10 ms resolution): unknown.
    const recorded = histogram.count > 0;
    stats.forEach(([, read], i) => gauges[i]?.set(recorded ? read() / 1e9 : Number.NaN));
    histogram.reset();
  };
}

const REPO_LABELS = ["repository", "callsign"] as const;

interface CollectorLog {
  warn: (obj: object, msg: string) => void;
}

/** The registry, with prom-client's process metrics and the build's identity. */
export function createRegistry(build: { version: string; commit: string }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  replaceEventLoopCollector(registry);
  const buildInfo = new Gauge({
    name: "phabmon_build_info",
    help: "Always 1; the labels say which build is running.",
    labelNames: ["version", "commit"],
    registers: [registry],
  });
  buildInfo.set({ version: build.version, commit: build.commit }, 1);
  return registry;
}

/** Set by the replication check. */
export function replicationMetrics(registry: Registry, repositories: readonly Repository[]) {
  const repoLabels = REPO_LABELS;
  const metrics = {
    replicationDelay: new Histogram({
      name: "phabmon_replication_delay_seconds",
      help: "Per push: time from the push to the check that found all its commits mirrored.",
      labelNames: repoLabels,
      buckets: DELAY_BUCKETS,
      registers: [registry],
    }),
    pendingPushes: new Gauge({
      name: "phabmon_pending_pushes",
      help: "Pushes received but not yet verified, as of the last check that read the queue.",
      labelNames: repoLabels,
      registers: [registry],
    }),
    pushesVerified: new Counter({
      name: "phabmon_pushes_verified_total",
      help: "Pushes found fully mirrored and acked.",
      labelNames: repoLabels,
      registers: [registry],
    }),
    checks: new Counter({
      name: "phabmon_checks_total",
      help: "Checks of a repository, completed or failed.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    checkFailures: new Counter({
      name: "phabmon_check_failures_total",
      help: "Checks of a repository that could not complete, by reason: the step that failed (queue, gap_search, pushlog, mirror, input, settle), or queue_shared, unknown_repository, stopped.",
      labelNames: ["repository", "reason"],
      registers: [registry],
    }),
    lastCheckSuccess: new Gauge({
      name: "phabmon_last_check_success_timestamp_seconds",
      help: "Unix time of the last check of the repository that completed.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    gitNullChangesets: new Counter({
      name: "phabmon_git_null_changesets_total",
      help: "Changesets of settled pushes, in repositories checked as Git, for which the pushlog names no Git commit (git_changesets null); they are not looked up.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    checkDuration: new Gauge({
      name: "phabmon_last_check_duration_seconds",
      help: "How long the last check took, from reading the queue to settling it.",
      registers: [registry],
    }),
  };
  // Series that will exist are exported from the start, so rate() and alerts see them at zero.
  for (const { path, mirror } of repositories) {
    metrics.pushesVerified.inc({ repository: path, callsign: mirrorName(mirror) }, 0);
    metrics.checks.inc({ repository: path }, 0);
    if (mirror.vcs === "git") metrics.gitNullChangesets.inc({ repository: path }, 0);
    for (const reason of FAILURE_REASONS) metrics.checkFailures.inc({ repository: path, reason }, 0);
  }
  return metrics;
}
export type ReplicationMetrics = ReturnType<typeof replicationMetrics>;

/** Set by the queue read (src/run/queue-read.ts, src/run/message-accounting.ts) and the gap searches, for both checks. */
export function messageMetrics(registry: Registry, repositories: readonly Repository[]) {
  const metrics = {
    pushlogGapPushes: new Counter({
      name: "phabmon_pushlog_gap_pushes_total",
      help: "Pushes found in the pushlog that never arrived over Pulse.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    lastPushReceived: new Gauge({
      name: "phabmon_last_push_received_timestamp_seconds",
      help: "Unix time at which a message announcing a push to the repository was last received for the first time.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    messagesReceived: new Counter({
      name: "phabmon_messages_received_total",
      help: "hgpush messages for the repository received for the first time (redeliveries are not counted).",
      labelNames: ["repository"],
      registers: [registry],
    }),
    messagesRejected: new Counter({
      name: "phabmon_messages_rejected_total",
      help: "Messages set aside (malformed, foreign, or a push json-pushes will never list): copied to the rejected queue, then acked.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    rejectedDropped: new Counter({
      name: "phabmon_rejected_dropped_total",
      help: "Set-aside messages pushed out of the bounded rejected queue (oldest first) by newer ones.",
      registers: [registry],
    }),
    messagesSkipped: new Counter({
      name: "phabmon_messages_skipped_total",
      help: "Well-formed messages with nothing to verify (other message types, empty pushes), acked.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    duplicateMessages: new Counter({
      name: "phabmon_duplicate_messages_total",
      help: "Messages whose pushes an earlier message of the same check already carried (delivery is at least once).",
      labelNames: ["repository"],
      registers: [registry],
    }),
  };
  for (const { path } of repositories) {
    metrics.messagesReceived.inc({ repository: path }, 0);
    metrics.pushlogGapPushes.inc({ repository: path }, 0);
  }
  return metrics;
}
export type MessageMetrics = ReturnType<typeof messageMetrics>;

/** Set by the Pulse connection. */
export function pulseMetrics(registry: Registry) {
  const metrics = {
    pulseConnected: new Gauge({
      name: "phabmon_pulse_connected",
      help: "1 while connected to Pulse, 0 otherwise.",
      registers: [registry],
    }),
    pulseReconnects: new Counter({
      name: "phabmon_pulse_reconnects_total",
      help: "Times the Pulse connection was lost and re-established.",
      registers: [registry],
    }),
    pulseConsumerCancels: new Counter({
      name: "phabmon_pulse_consumer_cancels_total",
      help: "Times the broker cancelled our consumer (for example because the queue was deleted).",
      registers: [registry],
    }),
    rejectedQueueUsable: new Gauge({
      name: "phabmon_rejected_queue_usable",
      help: "1 while set-aside messages are kept in the rejected queue; 0 when it could not be declared (they are then logged whole and acked).",
      registers: [registry],
    }),
  };
  metrics.pulseConnected.set(0);
  metrics.rejectedQueueUsable.set(1);
  metrics.pulseReconnects.inc(0);
  metrics.pulseConsumerCancels.inc(0);
  return metrics;
}
export type PulseMetrics = ReturnType<typeof pulseMetrics>;

/** Set by the code-review check; created only when the pipeline is measured. */
export function reviewMetrics(registry: Registry) {
  const metrics = {
    tryPushLatency: new Histogram({
      name: "phabmon_try_push_latency_seconds",
      help: "Per code-review diff: from the diff's creation in Phabricator (dateCreated) to the time of the code-review bot's Try push that carries it.",
      buckets: PIPELINE_BUCKETS,
      registers: [registry],
    }),
    reviewDuration: new Histogram({
      name: "phabmon_review_duration_seconds",
      help: "Per code-review diff: from the diff's creation to the completion (epochCompleted) of its Harbormaster build target, by outcome.",
      labelNames: ["outcome"],
      buckets: PIPELINE_BUCKETS,
      registers: [registry],
    }),
    tryPushes: new Counter({
      name: "phabmon_try_pushes_total",
      help: "Try pushes read, by kind: code_review (the bot's, measured) or other (people's own, not measured).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    reviewsDropped: new Counter({
      name: "phabmon_reviews_dropped_total",
      help: "Reviews that stopped being tracked without a measure: expired (no result within 24 h), overflow (too many in flight), aborted (the build target was aborted).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    reviewsRecovered: new Counter({
      name: "phabmon_reviews_recovered_total",
      help: "Reviews in flight found again at start-up from build targets still waiting for a result.",
      registers: [registry],
    }),
    pipelineChecks: new Counter({
      name: "phabmon_pipeline_checks_total",
      help: "Checks of the code-review pipeline, completed or failed.",
      registers: [registry],
    }),
    pipelineCheckFailures: new Counter({
      name: "phabmon_pipeline_check_failures_total",
      help: "Checks of the code-review pipeline that could not complete (broker, hg or Phabricator failure).",
      registers: [registry],
    }),
    lastPipelineCheckSuccess: new Gauge({
      name: "phabmon_last_pipeline_check_success_timestamp_seconds",
      help: "Unix time of the last check of the code-review pipeline that completed.",
      registers: [registry],
    }),
  };
  for (const kind of ["code_review", "other"]) metrics.tryPushes.inc({ kind }, 0);
  for (const reason of ["expired", "overflow", "aborted"]) metrics.reviewsDropped.inc({ reason }, 0);
  metrics.reviewsRecovered.inc(0);
  metrics.pipelineChecks.inc(0);
  metrics.pipelineCheckFailures.inc(0);
  for (const outcome of ["passed", "failed"]) metrics.reviewDuration.zero({ outcome });
  return metrics;
}
export type ReviewMetrics = ReturnType<typeof reviewMetrics>;

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

/** What the replication check last published: each repository's state (src/run/lag.ts). */
export type ReplicationView = ReadonlyMap<string, RepositoryState>;

/**
 * phabmon_replication_lag_seconds, computed at each scrape from the published states, the scrape's
 * clock and whether Pulse is connected (a zero is claimed only while it is).
 */
export function registerLagCollector(
  registry: Registry,
  options: {
    repositories: readonly Repository[];
    states: Board<ReplicationView>;
    connected: () => boolean;
    staleAfterMs: number;
    now: () => number;
    log?: CollectorLog;
  },
): void {
  const { repositories, states } = options;
  registerLagGauge(
    registry,
    {
      name: "phabmon_replication_lag_seconds",
      help: "Now minus the push time of the oldest push not yet fully mirrored; 0 when the last check found everything mirrored; NaN before the first check and when the last successful check is more than three intervals old.",
      labelNames: REPO_LABELS,
    },
    repositories.map(({ path, mirror }) => ({ labels: { repository: path, callsign: mirrorName(mirror) }, state: () => states.read().get(path) })),
    options,
  );
}

/**
 * A lag gauge computed at each scrape (lag.ts's rules: NaN when unknown, a 0 only while Pulse is
 * connected), one series per entry, from the state its check published.
 */
function registerLagGauge(
  registry: Registry,
  definition: { name: string; help: string; labelNames: readonly string[] },
  series: ReadonlyArray<{ labels: Record<string, string>; state: () => RepositoryState | undefined }>,
  options: { connected: () => boolean; staleAfterMs: number; now: () => number; log?: CollectorLog | undefined },
): void {
  const { connected, staleAfterMs, now, log } = options;
  new Gauge({
    ...definition,
    registers: [registry],
    collect() {
      const at = now();
      for (const { labels, state } of series) {
        let value = Number.NaN;
        try {
          const known = state();
          value = known === undefined ? Number.NaN : lagSeconds(known, at, staleAfterMs, connected());
        } catch (error) {
          // A collector that throws fails the whole scrape; unknown is what we honestly have.
          log?.warn({ err: (error as Error).message, metric: definition.name }, "lag collector failed");
        }
        this.set(labels, value);
      }
    },
  });
}

/** phabmon_reviews_in_flight and the oldest's age, at each scrape, from what the code-review check published. */
export function registerReviewCollectors(
  registry: Registry,
  options: { view: Board<ReviewView>; staleAfterMs: number; now: () => number; log?: CollectorLog },
): void {
  const { view, staleAfterMs, now, log } = options;
  const inFlight = () => {
    try {
      return reviewsInFlightAt(view.read(), now(), staleAfterMs);
    } catch (error) {
      log?.warn({ err: (error as Error).message }, "review collector failed");
      return undefined;
    }
  };
  const pipeline = [registry];
  new Gauge({
    name: "phabmon_reviews_in_flight",
    help: "Diffs pushed to Try (or found waiting at start-up) whose build target has no result yet; NaN until the service knows.",
    registers: pipeline,
    collect() {
      this.set(inFlight()?.count ?? Number.NaN);
    },
  });
  new Gauge({
    name: "phabmon_reviews_stuck",
    help: "Reviews in flight for more than 2 hours since their diff's creation (PhabmonReviewsStuck counts them); NaN until the service knows.",
    registers: pipeline,
    collect() {
      this.set(inFlight()?.stuck ?? Number.NaN);
    },
  });
  new Gauge({
    name: "phabmon_oldest_review_in_flight_seconds",
    help: "Age, from its diff's creation, of the oldest review in flight; 0 when none is; NaN until the service knows.",
    registers: pipeline,
    collect() {
      this.set(inFlight()?.oldestSeconds ?? Number.NaN);
    },
  });
}

/**
 * phabmon_queue_messages and phabmon_queue_consumers, at each scrape, from the queue depth reader's
 * readings (refreshed first when they are a few seconds old): a missing queue has no series, an
 * unreadable one reads NaN.
 */
export function registerQueueCollectors(
  registry: Registry,
  depths: { forScrape(): Promise<void>; readings(): ReadonlyMap<string, DepthReading> },
  log?: CollectorLog,
): void {
  const gauge = (name: string, help: string, which: "messages" | "consumers") =>
    new Gauge({
      name,
      help,
      labelNames: ["queue"],
      registers: [registry],
      async collect() {
        try {
          await depths.forScrape();
        } catch (error) {
          log?.warn({ err: (error as Error).message }, "queue depth collector failed");
        }
        this.reset();
        for (const [queue, reading] of depths.readings()) {
          if (reading.kind === "ok") this.set({ queue }, reading[which]);
          else if (reading.kind === "unknown") this.set({ queue }, Number.NaN);
        }
      },
    });
  gauge("phabmon_queue_messages", "Messages waiting in a watched Pulse queue (PulseGuardian warns at 2000 and deletes at 8000).", "messages");
  gauge("phabmon_queue_consumers", "Consumers of a watched Pulse queue.", "consumers");
}

/**
 * phabmon_repository_status and phabmon_oldest_unverified_push_id, at each scrape, from the same
 * document /status serves, so a dashboard and the page never disagree; and phabmon_queue_owned, which
 * tells the service's own queues (1) from those watched for others (0) for the queue alerts.
 */
export function registerStatusCollectors(
  registry: Registry,
  options: { status: () => StatusDocument; ownQueues: readonly string[]; log?: CollectorLog },
): void {
  const { status, log } = options;
  const registers = [registry];
  // The registry reads its metrics in order: the first one's collect builds the document once and sets all four.
  const repositoryStatus = new Gauge({
    name: "phabmon_repository_status",
    help: `1 for the repository's current status (${STATUSES.join(", ")}), 0 for the others; the reason is on /status.`,
    labelNames: [...REPO_LABELS, "status"],
    registers,
    collect: () => setAll(),
  });
  const pushId = new Gauge({
    name: "phabmon_oldest_unverified_push_id",
    help: "The id of the first push, in push order, not known to be fully mirrored: the one that holds the lag; absent when none.",
    labelNames: REPO_LABELS,
    registers,
  });
  // Labelled by repository only: a push id or a node as a label would be a new series for every push
  // that ever held the lag (one a check while lagging), without bound. /status names the node.
  const pushMissing = new Gauge({
    name: "phabmon_oldest_unverified_push_missing_commits",
    help: "How many commits of the push that holds the lag (phabmon_oldest_unverified_push_id) the mirror lacks; NaN when not known; absent when no push holds the lag. Its first missing commit is on /status.",
    labelNames: REPO_LABELS,
    registers,
  });
  const queueOwned = new Gauge({
    name: "phabmon_queue_owned",
    help: "1 for a queue this service declares and drains, 0 for one it only watches for another team (QUEUE_DEPTH_QUEUES).",
    labelNames: ["queue"],
    registers,
  });
  const setAll = () => {
    for (const gauge of [repositoryStatus, pushId, pushMissing, queueOwned]) gauge.reset();
    let doc: StatusDocument;
    try {
      doc = status();
    } catch (error) {
      // A collector that throws fails the whole scrape; no series is what we honestly have.
      log?.warn({ err: (error as Error).message }, "status collector failed");
      return;
    }
    for (const entry of doc.repositories) {
      const labels = { repository: entry.repository, callsign: entry.callsign };
      for (const s of STATUSES) repositoryStatus.set({ ...labels, status: s }, entry.status === s ? 1 : 0);
      const push = entry.oldestUnverified;
      if (push === null) continue;
      pushId.set(labels, push.pushId);
      pushMissing.set(labels, push.missingCommits ?? Number.NaN);
    }
    // As phabmon_queue_messages: a queue that does not exist has no series.
    for (const q of doc.queues) if (q.state !== "missing") queueOwned.set({ queue: q.queue }, q.owner === "service" ? 1 : 0);
    for (const queue of options.ownQueues) queueOwned.set({ queue }, 1);
  };
}

/** Set by the Git → hg sync check; created only when GIT_BRANCHES is set. */
export function syncMetrics(
  registry: Registry,
  branches: ReadonlyArray<{ branch: string; repository: string }>,
  gitRepositories: ReadonlyArray<{ path: string; callsign: string }>,
) {
  const metrics = {
    syncDelay: new Histogram({
      name: "phabmon_sync_delay_seconds",
      help: "Per Git push: from Lando's push time to the time of the hg push (git-hg-sync's) that carries its head.",
      labelNames: ["branch", "repository"],
      buckets: DELAY_BUCKETS,
      registers: [registry],
    }),
    landingToMirror: new Histogram({
      name: "phabmon_landing_to_mirror_seconds",
      help: "Per Git push, for repositories checked as Git: from Lando's push time to the check that found its head commit in Phabricator.",
      labelNames: REPO_LABELS,
      buckets: DELAY_BUCKETS,
      registers: [registry],
    }),
    syncPending: new Gauge({
      name: "phabmon_sync_pending_pushes",
      help: "Git pushes Lando announced that the hg pushlog does not carry yet, as of the last sync check.",
      labelNames: ["branch", "repository"],
      registers: [registry],
    }),
    syncChecks: new Counter({ name: "phabmon_sync_checks_total", help: "Checks of the Git → hg sync, completed or failed.", registers: [registry] }),
    syncCheckFailures: new Counter({
      name: "phabmon_sync_check_failures_total",
      help: "Checks of the Git → hg sync that could not complete for some branch (broker, hg.mozilla.org or Phabricator failure, or a lost queue).",
      registers: [registry],
    }),
    lastSyncCheckSuccess: new Gauge({
      name: "phabmon_last_sync_check_success_timestamp_seconds",
      help: "Unix time of the last check of the Git → hg sync that completed for every branch.",
      registers: [registry],
    }),
  };
  metrics.syncChecks.inc(0);
  metrics.syncCheckFailures.inc(0);
  for (const labels of branches) metrics.syncDelay.zero(labels);
  for (const { path, callsign } of gitRepositories) metrics.landingToMirror.zero({ repository: path, callsign });
  return metrics;
}
export type SyncMetrics = ReturnType<typeof syncMetrics>;

/** phabmon_sync_lag_seconds at each scrape, by the replication lag's rules (lag.ts), from what the sync check published. */
export function registerSyncLagCollector(
  registry: Registry,
  options: {
    branches: ReadonlyArray<{ branch: string; repository: string }>;
    states: Board<ReadonlyMap<string, { state: RepositoryState }>>;
    connected: () => boolean;
    staleAfterMs: number;
    now: () => number;
    log?: CollectorLog;
  },
): void {
  const { branches, states } = options;
  registerLagGauge(
    registry,
    {
      name: "phabmon_sync_lag_seconds",
      help: "Now minus the Git push time of the oldest Lando push whose head the hg pushlog does not carry yet; 0 when all are synced; NaN when unknown (before the first sync check, or the last successful one is more than three intervals old).",
      labelNames: ["branch", "repository"],
    },
    branches.map(({ branch, repository }) => ({ labels: { branch, repository }, state: () => states.read().get(branch)?.state })),
    options,
  );
}
