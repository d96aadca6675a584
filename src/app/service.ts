// The composition root: builds the adapters from the configuration, wires them to the monitor, the
// metrics and the HTTP server, and owns the schedule and the shutdown. Tests build it with their own
// logger and clock.
import type { Server } from "node:http";
import type { Registry } from "prom-client";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { pipelineOffReason, secretsOf, type Config } from "../config/config.ts";
import { PulseClient, type DrainOptions, type SetAsideCopy } from "../pulse/pulse.ts";
import { createUpstream, type Upstream } from "../upstream/upstream.ts";
import { createPushlogClient } from "../pushlog/pushlog.ts";
import { createConduitClient, phabricatorMirrorKinds } from "../phabricator/phabricator.ts";
import { createMirrors, type Mirror } from "../mirror/mirror.ts";
import {
  createRegistry,
  messageMetrics,
  pulseMetrics,
  registerLagCollector,
  registerStatusCollectors,
  registerSyncLagCollector,
  syncMetrics,
  registerQueueCollectors,
  registerReviewCollectors,
  replicationMetrics,
  reviewMetrics,
  upstreamMetrics,
  type ReplicationView,
} from "./metrics.ts";
import { createBoard, type Board } from "../run/board.ts";
import { UNKNOWN_REVIEWS, type ReviewView } from "../review/reviews.ts";
import { createMonitor, type CheckReport, type Monitor } from "../replication/monitor.ts";
import { createPipeline, type Pipeline, type PipelineReport } from "../review/pipeline.ts";
import { createGitSync, type GitSync, type SyncReport, type SyncView } from "../git-sync/git-sync.ts";
import { createQueueDepths, type QueueDepths } from "../pulse/queue-depths.ts";
import { createReviewLookup } from "../review/review-lookup.ts";
import { startCheckTimer } from "../run/check-timer.ts";
import { createScheduler, defaultRunPolicy, type Check, type RunResult, type Scheduler } from "../run/scheduler.ts";
import type { VersionInfo } from "./version.ts";
import { statusDocument, type StatusDocument } from "./status-document.ts";
import { mirrorName } from "../mirror/mirror.ts";
import { legacyLagGauges } from "./legacy-gauges.ts";
import { createStatsdSender, type GaugeSender } from "./statsd.ts";
import { NO_REPORTS, type ErrorReporter } from "./error-reports.ts";

export interface AppOptions {
  config: Config;
  log: Logger;
  version: VersionInfo;
  readOnly: boolean;
  now?: () => number;
  /** How long a check waits for more messages once none arrive. */
  drainIdleMs?: number;
  /** Where unexpected errors go besides the log (Sentry when SENTRY_DSN is set). */
  errors?: ErrorReporter;
}

export interface App {
  config: Config;
  log: Logger;
  pulse: PulseClient;
  monitor: Monitor;
  /** Undefined when the code-review pipeline is not measured (see pipelineOffReason). */
  pipeline: Pipeline | undefined;
  /** Undefined when GIT_BRANCHES is unset. */
  gitSync: GitSync | undefined;
  queueDepths: QueueDepths;
  /** Every series the service exports. */
  registry: Registry;
  hg: Upstream;
  phabricator: Upstream;
  /** Each repository's mirror, by path. */
  mirrors: ReadonlyMap<string, Mirror>;
  /** The checks the scheduler runs, in this order. */
  checks: AppChecks;
  scheduler: Scheduler;
  /** What /status and / show, as of now: built from what the checks published. */
  status(): StatusDocument;
  errors: ErrorReporter;
  close(): Promise<void>;
}

export interface AppChecks {
  replication: Check<CheckReport>;
  codeReview: Check<PipelineReport> | undefined;
  gitSync: Check<SyncReport> | undefined;
  /** Refreshes the depths of the queues watched for others (QUEUE_DEPTH_QUEUES), when there are any. */
  queueDepths: Check | undefined;
}

/** Set-aside messages kept, at most: well under PulseGuardian's 8,000, and days of a bad stream. */
export const REJECTED_MAX_LENGTH = 1000;

export function buildApp(options: AppOptions): App {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const pipelineOff = pipelineOffReason(config);
  const tryRepository = pipelineOff === undefined ? config.codeReviewTryRepository : undefined;
  const staleAfterMs = 3 * config.checkIntervalMs;
  const startedAt = now();
  const errors = options.errors ?? NO_REPORTS;
  const secrets = secretsOf(config);
  // 1. The registry and each source's own metrics.
  const registry = createRegistry({ version: options.version.version, commit: options.version.commit });
  const upstreamSeries = upstreamMetrics(registry);
  const pulseSeries = pulseMetrics(registry);
  const messageSeries = messageMetrics(registry, config.repositories);
  const replicationSeries = replicationMetrics(registry, config.repositories);
  const reviewSeries = tryRepository === undefined ? undefined : reviewMetrics(registry);
  const gitRepositories = config.repositories.filter((r) => r.mirror.vcs === "git").map((r) => ({ path: r.path, callsign: mirrorName(r.mirror) }));
  const syncSeries = config.gitSync === undefined ? undefined : syncMetrics(registry, config.gitSync.branches, gitRepositories);

  // 2. The adapters.
  const observe = (service: "hgmo" | "phabricator", seconds: number, failed: boolean) => {
    upstreamSeries.upstreamDuration.observe({ service }, seconds);
    if (failed) upstreamSeries.upstreamFailures.inc({ service });
  };
  const onRetryableStatus = (service: "hgmo" | "phabricator", status: number) => upstreamSeries.upstreamRetryable.inc({ service, status: String(status) });
  const hg = createUpstream({
    service: "hgmo",
    baseUrl: config.hgUrl,
    timeoutMs: config.upstreamTimeoutMs,
    observe,
    onRetryableStatus,
    connections: 8,
    secrets,
  });
  const phabricator = createUpstream({
    service: "phabricator",
    baseUrl: config.phabricatorUrl,
    timeoutMs: config.upstreamTimeoutMs,
    observe,
    onRetryableStatus,
    connections: Math.max(8, config.phabricatorHeadConcurrency),
    secrets,
  });
  const conduit = config.phabricatorApiToken ? createConduitClient(phabricator, config.phabricatorApiToken, secrets) : undefined;
  // Each repository's mirror kind was chosen by the configuration; these are the kinds on offer.
  const mirrors = createMirrors(
    config.repositories,
    phabricatorMirrorKinds(phabricator, config.phabricatorApiToken, config.phabricatorHeadConcurrency, secrets),
  );
  const pushlog = createPushlogClient(hg);

  const pulseLog = log.child({ component: "pulse" });
  const pulse = new PulseClient({
    url: config.pulse.url,
    username: config.pulse.username,
    password: config.pulse.password,
    exchange: config.pulse.exchange,
    queues: [
      { name: config.pulse.queue, bindings: config.repositories.map((r) => r.path) },
      ...(tryRepository === undefined ? [] : [{ name: config.pulse.tryQueue, bindings: [tryRepository] }]),
      ...(config.gitSync === undefined ? [] : [{ name: config.gitSync.queue, bindings: config.gitSync.routingKeys, exchange: config.gitSync.exchange }]),
    ],
    readOnly: options.readOnly,
    secrets,
    rejected: { exchange: config.pulse.rejectedExchange, queue: config.pulse.rejectedQueue, maxLength: REJECTED_MAX_LENGTH },
    log: pulseLog,
    connectTimeoutMs: Math.max(1000, Math.min(30_000, config.checkIntervalMs / 4)),
    onConnectedChange: (connected) => pulseSeries.pulseConnected.set(connected ? 1 : 0),
    onReconnect: () => pulseSeries.pulseReconnects.inc(),
    onRejectedUnavailable: (unavailable) => pulseSeries.rejectedQueueUsable.set(unavailable ? 0 : 1),
    onConsumerCancel: () => {
      pulseSeries.pulseConsumerCancels.inc();
      pulseLog.warn("the broker cancelled our consumer (queue deleted?)");
    },
  });
  const ownQueues = [
    config.pulse.queue,
    ...(tryRepository === undefined ? [] : [config.pulse.tryQueue]),
    ...(config.gitSync === undefined ? [] : [config.gitSync.queue]),
  ];
  const queueDepths = createQueueDepths({
    own: ownQueues,
    others: config.queueDepthQueues,
    read: (queue) => pulse.queueDepth(queue),
    log: log.child({ component: "queues" }),
    now,
  });

  // 3. The checks; each publishes what it knows on its board after every run.
  const replicationBoard = createBoard<ReplicationView>(new Map());
  const reviewBoard = createBoard<ReviewView>(UNKNOWN_REVIEWS);
  const syncBoard = createBoard<SyncView>(new Map());
  const queueRead = {
    hgUrl: config.hgUrl,
    checkIntervalMs: config.checkIntervalMs,
    maxMessagesPerCheck: config.maxMessagesPerCheck,
    readOnly: options.readOnly,
    drain: (opts: DrainOptions) => pulse.drain(opts),
    copyAside: (copies: readonly SetAsideCopy[], nowMs: number) => pulse.copyAside(copies, nowMs),
    recordDepth: (queue: string, depth: { messages: number; consumers: number }) => queueDepths.record(queue, depth),
    messageMetrics: messageSeries,
    pushlog,
    now,
    ...(options.drainIdleMs === undefined ? {} : { drainIdleMs: options.drainIdleMs }),
  };
  const monitor: Monitor = createMonitor({
    ...queueRead,
    repositories: config.repositories,
    queue: config.pulse.queue,
    queueDepth: (queue) => queueDepths.readOne(queue),
    mirrors,
    metrics: replicationSeries,
    publish: (states) => replicationBoard.publish(states),
    log: log.child({ component: "check" }),
  });

  const pipeline =
    tryRepository === undefined || conduit === undefined || reviewSeries === undefined
      ? undefined
      : createPipeline({
          ...queueRead,
          tryRepository,
          queue: config.pulse.tryQueue,
          reviews: createReviewLookup(conduit),
          metrics: reviewSeries,
          publish: (view) => reviewBoard.publish(view),
          log: log.child({ component: "pipeline" }),
        });

  const gitSync =
    config.gitSync === undefined || syncSeries === undefined
      ? undefined
      : createGitSync({
          config: config.gitSync,
          drain: queueRead.drain,
          copyAside: queueRead.copyAside,
          pushlog,
          gitMirrors: new Map(gitRepositories.map(({ path }) => [path, mirrors.get(path) as Mirror])),
          maxMessagesPerCheck: config.maxMessagesPerCheck,
          readOnly: options.readOnly,
          checkIntervalMs: config.checkIntervalMs,
          ...(options.drainIdleMs === undefined ? {} : { drainIdleMs: options.drainIdleMs }),
          recordDepth: queueRead.recordDepth,
          messageMetrics: messageSeries,
          metrics: syncSeries,
          publish: (view) => syncBoard.publish(view),
          log: log.child({ component: "git-sync" }),
          now,
        });

  // 4. The status document and the scrape-time collectors, reading the boards and the adapters, never the checks.
  const status = statusSource({
    config,
    replication: replicationBoard,
    reviews: pipeline === undefined ? undefined : reviewBoard,
    sync: syncBoard,
    queueDepths,
    ownQueues,
    connected: () => pulse.connected,
    startedAt,
    now,
  });
  const collectorLog = log.child({ component: "metrics" });
  registerStatusCollectors(registry, { status, ownQueues, log: collectorLog });
  registerLagCollector(registry, {
    repositories: config.repositories,
    states: replicationBoard,
    connected: () => pulse.connected,
    staleAfterMs,
    now,
    log: collectorLog,
  });
  if (pipeline !== undefined) registerReviewCollectors(registry, { view: reviewBoard, staleAfterMs, now, log: collectorLog });
  if (config.gitSync !== undefined) {
    registerSyncLagCollector(registry, {
      branches: config.gitSync.branches,
      states: syncBoard,
      connected: () => pulse.connected,
      staleAfterMs,
      now,
      log: collectorLog,
    });
  }
  registerQueueCollectors(registry, queueDepths, collectorLog);
  if (pipelineOff !== undefined) {
    // Leaving Try unset is a choice; setting it without a token is a mistake worth a warning.
    log[config.codeReviewTryRepository ? "warn" : "info"](
      {
        reason: pipelineOff,
        off: ["phabmon_try_push_latency_seconds", "phabmon_review_duration_seconds", "phabmon_reviews_in_flight", "phabmon_oldest_review_in_flight_seconds"],
      },
      `code-review pipeline metrics are off: ${pipelineOff}`,
    );
  }

  const checks: AppChecks = {
    replication: { name: "replication", run: (signal) => monitor.runCheck(signal) },
    codeReview: pipeline === undefined ? undefined : { name: "code_review", run: (signal) => pipeline.runCheck(signal) },
    gitSync: gitSync === undefined ? undefined : { name: "git_sync", run: (signal) => gitSync.runCheck(signal) },
    queueDepths:
      config.queueDepthQueues.length === 0
        ? undefined
        : {
            name: "queue_depths",
            run: async () => {
              await queueDepths.refresh();
              return { ok: true };
            },
          },
  };
  // Replication first: Try traffic is on its own queue and waits its turn, so it never holds it up.
  const scheduler = createScheduler({
    checks: [checks.replication, checks.codeReview, checks.gitSync, checks.queueDepths].filter((c): c is Check => c !== undefined),
    policy: defaultRunPolicy(config.checkIntervalMs),
    log: log.child({ component: "scheduler" }),
    now,
    onUnexpected: (error, check) => errors.report(error, `check ${check}`),
  });

  log.info(
    {
      ...configurationSummary(config, mirrors, ownQueues),
      codeReviewPipeline: tryRepository === undefined ? `off (${pipelineOff})` : `on (Try repository ${tryRepository})`,
      readOnly: options.readOnly,
    },
    "configured",
  );

  return {
    config,
    log,
    pulse,
    monitor,
    pipeline,
    gitSync,
    queueDepths,
    registry,
    hg,
    phabricator,
    mirrors,
    checks,
    scheduler,
    status,
    errors,
    async close() {
      await pulse.stop();
      await Promise.all([hg.close(), phabricator.close()]);
    },
  };
}

/** What /status and / show, built at each call from what the checks published (src/app/status-document.ts). */
function statusSource(parts: {
  config: Config;
  replication: Board<ReplicationView>;
  reviews: Board<ReviewView> | undefined;
  sync: Board<SyncView>;
  queueDepths: QueueDepths;
  ownQueues: readonly string[];
  connected: () => boolean;
  startedAt: number;
  now: () => number;
}): () => StatusDocument {
  const { config } = parts;
  const own = new Set(parts.ownQueues);
  const repositories = config.repositories.map((r) => ({
    path: r.path,
    callsign: mirrorName(r.mirror),
    noInputAfterMs: config.noInputAfterMs.byRepository[r.path] ?? config.noInputAfterMs.default,
  }));
  const policy = { staleAfterMs: 3 * config.checkIntervalMs, stalledAfterChecks: config.stalledAfterChecks, noInputAfterMs: config.noInputAfterMs.default };
  return () =>
    statusDocument(
      {
        repositories,
        states: parts.replication.read(),
        reviews: parts.reviews?.read(),
        sync: config.gitSync === undefined ? undefined : { branches: config.gitSync.branches, states: parts.sync.read() },
        queues: [...parts.queueDepths.readings()].map(([queue, reading]) => ({ queue, owner: own.has(queue) ? "service" : "watched", reading })),
      },
      parts.now(),
      policy,
      { connected: parts.connected(), startedAt: parts.startedAt },
    );
}

/** The start-up line's account of what this process watches and how. */
function configurationSummary(config: Config, mirrors: ReadonlyMap<string, Mirror>, ownQueues: readonly string[]) {
  return {
    repositories: config.repositories,
    queues: ownQueues,
    watchedQueues: config.queueDepthQueues,
    exchange: config.pulse.exchange,
    gitSync:
      config.gitSync === undefined
        ? "off (GIT_BRANCHES is not set)"
        : { branches: config.gitSync.branches, exchange: config.gitSync.exchange, routingKeys: config.gitSync.routingKeys, queue: config.gitSync.queue },
    mirrorCheck: Object.fromEntries(
      config.repositories.map((r) => [
        r.path,
        `${mirrors.get(r.path)?.how ?? "?"}${r.mirror.vcs === "git" ? ", by the pushes' Git commits (git_changesets)" : ""}`,
      ]),
    ),
    schedule: config.checkSchedule,
  };
}

export interface CheckResult {
  replication: CheckReport;
  pipeline: PipelineReport | undefined;
  /** Every check completed (lagging or not). */
  ok: boolean;
}

/** What one run of every check produced; a check whose run failed outside it reports unknown. */
export async function runChecks(app: App, signal: AbortSignal = new AbortController().signal): Promise<CheckResult> {
  const results = await app.scheduler.runAll(signal);
  const replicationRun = resultOf(results, app.checks.replication);
  const replication = replicationRun?.status === "done" ? replicationRun.report : app.monitor.reportWithoutRun(runFailure(replicationRun));
  const pipelineRun = app.checks.codeReview === undefined ? undefined : resultOf(results, app.checks.codeReview);
  const pipeline = pipelineRun?.status === "done" ? pipelineRun.report : undefined;
  const everyRunDone = [...results.values()].every((r) => r.status === "done");
  return { replication, pipeline, ok: everyRunDone && replication.ok && (pipeline?.ok ?? true) };
}

function resultOf<R>(results: ReadonlyMap<string, RunResult<{ ok: boolean }>>, check: Check<R & { ok: boolean }>): RunResult<R> | undefined {
  // The scheduler keys each result by its check's name, and the check produced it.
  return results.get(check.name) as RunResult<R> | undefined;
}

function runFailure(run: RunResult<unknown> | undefined): string {
  if (run === undefined) return "check stopped";
  if (run.status === "skipped") return "the previous check has not ended; this one was skipped";
  return run.status === "failed" ? run.error : "check failed";
}

/** One check, then close everything. */
export async function runOnce(app: App, signal?: AbortSignal): Promise<CheckResult> {
  try {
    return await runChecks(app, signal);
  } finally {
    await app.close();
  }
}

/** The whole of a stop, below the 30 s Heroku gives a dyno between SIGTERM and SIGKILL. */
export const SHUTDOWN_DEADLINE_MS = 25_000;

export interface RunningService {
  server: Server;
  port: number;
  stop(options?: { graceMs?: number; deadlineMs?: number }): Promise<void>;
}

export async function startService(
  app: App,
  options: { port: number; metricsToken: string | undefined; version: VersionInfo; onReport?: (result: CheckResult) => void; now?: () => number },
): Promise<RunningService> {
  const { log, config, pulse, monitor } = app;
  const now = options.now ?? Date.now;
  // Loaded here, not at the top: `report-lag --once` serves nothing, and node:http with the status
  // page cost 20-30 ms of a one-shot check's start (measured after undici, which --once loads anyway).
  const { createHttpServer } = await import("../http/server.ts");
  const server = createHttpServer({
    registry: app.registry,
    metricsToken: options.metricsToken,
    version: options.version,
    status: () => app.status(),
    onError: (error) => {
      log.error({ err: error.message }, "http handler failed");
      app.errors.report(error, "http");
    },
    health: () => {
      const checks = monitor.health(now());
      const healthy = pulse.connected && checks.every((c) => c.healthy);
      const runs = app.scheduler.summary(now());
      return {
        healthy,
        // What anyone may know (the load balancer asks without credentials): no host, queue, user or error text.
        summary: {
          status: healthy ? "ok" : "error",
          checks: {
            pulse: pulse.connected,
            replication: checks.every((c) => c.healthy),
            ...(app.pipeline ? { code_review: runs.code_review?.failing === false } : {}),
            ...(app.gitSync ? { git_sync: app.gitSync.health(now()).every((b) => b.healthy) } : {}),
          },
        },
        body: {
          status: healthy ? "ok" : "error",
          pulse: { connected: pulse.connected },
          // Reported, not judged: the pipeline's health is Try's and Phabricator's, not this service's.
          codeReviewPipeline: app.pipeline ? { reviewsInFlight: app.pipeline.inFlight(now()) ?? null } : "off",
          // Reported, not judged, as the pipeline: the sync is git-hg-sync's.
          gitSync: app.gitSync
            ? Object.fromEntries(
                app.gitSync.health(now()).map((b) => [b.branch, { repository: b.repository, healthy: b.healthy, lastError: b.lastError ?? null }]),
              )
            : "off",
          // Per check of the scheduler: failures in a row (3 or more: failing), the last run, whether one is running.
          runs,
          checks: Object.fromEntries(
            checks.map((c) => [
              c.repository,
              {
                healthy: c.healthy,
                lastSuccess: c.lastSuccessAt === undefined ? null : new Date(c.lastSuccessAt).toISOString(),
                lastError: c.lastError ?? null,
              },
            ]),
          ),
        },
      };
    },
  });
  // Heroku routes to 0.0.0.0:$PORT and kills a web dyno that has not bound it within 60 s: listen first.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, "listening");
  if (options.metricsToken === undefined) {
    log.warn("METRICS_TOKEN is not set: /metrics, /status and / are public (set it to a random string of 16 characters or more)");
  }

  pulse.keepConnected();
  const statsd = config.statsd === undefined ? undefined : await startStatsd(app, config.statsd);

  let running: Promise<CheckResult | undefined> | undefined;
  let stopping = false;
  const controller = new AbortController();

  // checkNow is a function declaration, hoisted: the schedule can name it before it is written out.
  const timer = startCheckTimer(config.checkSchedule, {
    run: () => void checkNow(),
    missed: (gap) =>
      log.warn(
        { due: gap.due.toISOString(), lateSeconds: Math.round(gap.lateMs / 1000) },
        "scheduled checks were missed (the process was busy or asleep): running one now",
      ),
  });
  const nextCheckAt = (): string | undefined => timer.nextRun()?.toISOString();

  function checkNow(): Promise<CheckResult | undefined> {
    if (stopping) return Promise.resolve(undefined);
    if (running) {
      log.warn("a check is still running; this one is skipped");
      return running;
    }
    running = runChecks(app, controller.signal)
      .then((report) => {
        options.onReport?.(report);
        statsd?.sendNow();
        if (!stopping) log.info({ nextCheck: nextCheckAt() ?? null, schedule: config.checkSchedule }, "waiting for the next check");
        return report;
      })
      .catch((error: unknown) => {
        log.error({ err: (error as Error).message }, "check crashed");
        app.errors.report(error, "check");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  // A person who started it by hand should know it does not end by itself, and when it acts next.
  log.info({ schedule: config.checkSchedule }, "running until SIGTERM or Ctrl-C: a check now, then on CHECK_SCHEDULE");
  void checkNow();

  return {
    server,
    port,
    async stop({ graceMs = 7000, deadlineMs = SHUTDOWN_DEADLINE_MS } = {}) {
      if (stopping) return;
      stopping = true;
      log.info("stopping: no new checks; the running one hands back what it has not verified");
      const steps = async () => {
        await timer.stop();
        controller.abort();
        if (running) {
          await Promise.race([running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
        }
        await statsd?.stop();
        await app.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      };
      // Each step can wait on the network (closing a connection to a broker that went silent waits for
      // its heartbeat); Heroku kills the process 30 s after SIGTERM, so the whole stop ends before.
      // Nothing is lost either way: what was not acked goes back to the queue when the connection dies.
      let deadline: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        steps().then(() => false),
        new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(true), deadlineMs).unref())),
      ]);
      clearTimeout(deadline);
      if (late) log.error({ deadlineSeconds: deadlineMs / 1000 }, "stopping took too long: exiting without waiting further");
      else log.info("stopped");
    },
  };
}

/** How often the earlier service's gauge is sent between checks: the lag grows, and Datadog shows the last point. */
export const STATSD_INTERVAL_MS = 60_000;

/** Sends the lags of /status as the earlier service's DogStatsD gauges after each check and every minute. */
async function startStatsd(app: App, target: { host: string; port: number }): Promise<{ sendNow(): void; stop(): Promise<void> }> {
  const log = app.log.child({ component: "statsd" });
  const sender: GaugeSender = await createStatsdSender({ ...target, log });
  // Called from a timer and after each check: whatever goes wrong is logged, never thrown into either.
  const sendNow = () => {
    try {
      const lags = app.status().repositories.map((r) => ({ callsign: r.callsign, lagSeconds: r.lagSeconds ?? Number.NaN }));
      sender.send(legacyLagGauges(lags));
    } catch (error) {
      log.error({ err: error }, "could not send the DogStatsD gauges");
    }
  };
  const timer = setInterval(sendNow, STATSD_INTERVAL_MS);
  timer.unref();
  log.info({ host: target.host, port: target.port }, "sending the lag as DogStatsD gauges (phabricator.repository.<callsign>.seconds_behind_source_repo)");
  return {
    sendNow,
    async stop() {
      clearInterval(timer);
      await sender.close();
    },
  };
}
