// The composition root: the adapters made once from the configuration (Pulse, hg.mozilla.org,
// Phabricator, the mirrors), the registry, and each check of the table (check-table.ts) built from
// them. Tests build it with their own logger and clock.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { secretsOf, type Config } from "../config/config.ts";
import { PulseClient, type QueueSpec } from "../pulse/pulse.ts";
import { pulseMetrics, registerQueueCollectors, registerQueueOwnership } from "../pulse/metrics.ts";
import { createQueueDepths, type QueueDepths } from "../pulse/queue-depths.ts";
import { createUpstream, type Upstream } from "../upstream/upstream.ts";
import { upstreamMetrics } from "../upstream/metrics.ts";
import { createPushlogClient } from "../pushlog/pushlog.ts";
import { createConduitClient, phabricatorMirrorKinds } from "../phabricator/phabricator.ts";
import { createMirrors, type Mirror } from "../mirror/mirror.ts";
import { createReviewLookup } from "../phabricator/review-lookup.ts";
import { messageMetrics } from "../run/message-metrics.ts";
import { createScheduler, defaultRunPolicy, type Scheduler } from "../run/scheduler.ts";
import { staleAfterMs } from "../run/stale.ts";
import type { CheckContext, CheckInstance, CheckKind } from "../run/check-kind.ts";
import { NO_REPORTS, type ErrorReporter } from "./error-reports.ts";
import { createRegistry } from "./metrics.ts";
import { CHECK_KINDS } from "./check-table.ts";
import { statusDocument, type StatusDocument } from "./status-document.ts";
import { heartbeat, type Heartbeat } from "./heartbeat.ts";
import type { VersionInfo } from "./version.ts";

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
  /** The check kinds to build; the table's by default. */
  kinds?: readonly CheckKind[];
}

/** A check of the table, on or off. */
export type TableEntry = { kind: CheckKind; check: CheckInstance; off?: undefined } | { kind: CheckKind; check?: undefined; off: string };

export interface App {
  config: Config;
  log: Logger;
  pulse: PulseClient;
  /** Every series the service exports. */
  registry: Registry;
  hg: Upstream;
  phabricator: Upstream;
  /** Each repository's mirror, by path. */
  mirrors: ReadonlyMap<string, Mirror>;
  queueDepths: QueueDepths;
  /** The table, each kind with its built check or why it is off, in the table's order. */
  table: readonly TableEntry[];
  /** The checks that run, in the table's order. */
  checks: readonly CheckInstance[];
  scheduler: Scheduler;
  /** What /status and / show, as of now. */
  status(): StatusDocument;
  /** What /__heartbeat__ answers, as of now. */
  health(): Heartbeat;
  errors: ErrorReporter;
  close(): Promise<void>;
}

/** Set-aside messages kept, at most: well under PulseGuardian's 8,000, and days of a bad stream. */
export const REJECTED_MAX_LENGTH = 1000;

function upstreams(config: Config, registry: Registry): { hg: Upstream; phabricator: Upstream } {
  const series = upstreamMetrics(registry);
  const secrets = secretsOf(config);
  const observe = (service: "hgmo" | "phabricator", seconds: number, failed: boolean) => {
    series.upstreamDuration.observe({ service }, seconds);
    if (failed) series.upstreamFailures.inc({ service });
  };
  const onRetryableStatus = (service: "hgmo" | "phabricator", status: number) => series.upstreamRetryable.inc({ service, status: String(status) });
  const common = { timeoutMs: config.upstreamTimeoutMs, observe, onRetryableStatus, secrets };
  return {
    hg: createUpstream({ ...common, service: "hgmo", baseUrl: config.hgUrl, connections: 8 }),
    phabricator: createUpstream({
      ...common,
      service: "phabricator",
      baseUrl: config.phabricatorUrl,
      connections: Math.max(8, config.phabricatorHeadConcurrency),
    }),
  };
}

function pulseClient(config: Config, queues: readonly QueueSpec[], registry: Registry, log: Logger, readOnly: boolean): PulseClient {
  const series = pulseMetrics(registry);
  return new PulseClient({
    url: config.pulse.url,
    username: config.pulse.username,
    password: config.pulse.password,
    exchange: config.pulse.exchange,
    queues,
    readOnly,
    secrets: secretsOf(config),
    rejected: { exchange: config.pulse.rejectedExchange, queue: config.pulse.rejectedQueue, maxLength: REJECTED_MAX_LENGTH },
    log,
    connectTimeoutMs: Math.max(1000, Math.min(30_000, config.checkIntervalMs / 4)),
    onConnectedChange: (connected) => series.pulseConnected.set(connected ? 1 : 0),
    onReconnect: () => series.pulseReconnects.inc(),
    onRejectedUnavailable: (unavailable) => series.rejectedQueueUsable.set(unavailable ? 0 : 1),
    onConsumerCancel: () => {
      series.pulseConsumerCancels.inc();
      log.warn("the broker cancelled our consumer (queue deleted?)");
    },
  });
}

export function buildApp(options: AppOptions): App {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const kinds = options.kinds ?? CHECK_KINDS;
  const startedAt = now();
  const errors = options.errors ?? NO_REPORTS;
  const registry = createRegistry({ version: options.version.version, commit: options.version.commit });
  const { hg, phabricator } = upstreams(config, registry);
  const secrets = secretsOf(config);
  const mirrors = createMirrors(
    config.repositories,
    phabricatorMirrorKinds(phabricator, config.phabricatorApiToken, config.phabricatorHeadConcurrency, secrets),
  );
  const offs = new Map(kinds.map((k) => [k.name, k.off(config)]));
  // The main queue first: the Pulse client declares the rejected queue with it.
  const queues = kinds.flatMap((k) => (offs.get(k.name) === undefined ? [k.queue(config)] : [])).filter((q): q is QueueSpec => q !== undefined);
  const pulse = pulseClient(config, queues, registry, log.child({ component: "pulse" }), options.readOnly);
  const ownQueues = queues.map((q) => q.name);
  const queueDepths = createQueueDepths({
    own: ownQueues,
    others: config.queueDepthQueues,
    read: (queue) => pulse.queueDepth(queue),
    log: log.child({ component: "queues" }),
    now,
  });
  const collectorLog = log.child({ component: "metrics" });
  registerQueueCollectors(registry, queueDepths, collectorLog);
  registerQueueOwnership(registry, { readings: () => queueDepths.readings(), own: ownQueues });
  const context: CheckContext = {
    config,
    registry,
    log,
    now,
    startedAt,
    readOnly: options.readOnly,
    drainIdleMs: options.drainIdleMs,
    staleAfterMs: staleAfterMs(config.checkIntervalMs),
    pulse: { drain: (o) => pulse.drain(o), copyAside: (copies, nowMs) => pulse.copyAside(copies, nowMs), connected: () => pulse.connected },
    queueDepths,
    pushlog: createPushlogClient(hg),
    mirrors,
    reviews: config.phabricatorApiToken ? createReviewLookup(createConduitClient(phabricator, config.phabricatorApiToken, secrets)) : undefined,
    messageMetrics: messageMetrics(registry, config.repositories),
  };
  const table: TableEntry[] = kinds.map((kind) => {
    const off = offs.get(kind.name);
    return off === undefined ? { kind, check: kind.create(context) } : { kind, off };
  });
  const checks = table.flatMap((e) => (e.check ? [e.check] : []));
  const scheduler = createScheduler({
    checks,
    policy: defaultRunPolicy(config.checkIntervalMs),
    log: log.child({ component: "scheduler" }),
    now,
    onUnexpected: (error, check) => errors.report(error, `check ${check}`),
  });
  announce(config, table, mirrors, ownQueues, options.readOnly, log);
  const queueSection = () =>
    [...queueDepths.readings()].map(([queue, reading]) => ({ queue, owner: ownQueues.includes(queue) ? ("service" as const) : ("watched" as const), reading }));
  return {
    config,
    log,
    pulse,
    registry,
    hg,
    phabricator,
    mirrors,
    queueDepths,
    table,
    checks,
    scheduler,
    status: () => statusDocument(table, queueSection(), now(), pulse.connected),
    health: () => heartbeat(table, { connected: pulse.connected, runs: scheduler.summary(now()), nowMs: now() }),
    errors,
    async close() {
      await pulse.stop();
      await Promise.all([hg.close(), phabricator.close()]);
    },
  };
}

/** The start-up lines: what this process watches and how, and which checks are off and why. */
function announce(
  config: Config,
  table: readonly TableEntry[],
  mirrors: ReadonlyMap<string, Mirror>,
  ownQueues: readonly string[],
  readOnly: boolean,
  log: Logger,
): void {
  for (const { kind, off } of table) {
    const notice = off === undefined ? undefined : kind.offNotice?.(config, off);
    if (notice !== undefined) log[notice.level](notice.fields ?? {}, notice.msg);
  }
  log.info(
    {
      repositories: config.repositories,
      queues: ownQueues,
      watchedQueues: config.queueDepthQueues,
      exchange: config.pulse.exchange,
      checks: Object.fromEntries(table.map(({ kind, off }) => [kind.name, off === undefined ? "on" : `off (${off})`])),
      mirrorCheck: Object.fromEntries(
        config.repositories.map((r) => [
          r.path,
          `${mirrors.get(r.path)?.how ?? "?"}${r.mirror.vcs === "git" ? ", by the pushes' Git commits (git_changesets)" : ""}`,
        ]),
      ),
      schedule: config.checkSchedule,
      readOnly,
    },
    "configured",
  );
}
