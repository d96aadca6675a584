// The composition root: builds the adapters from the configuration, wires them to the monitor, the
// metrics and the HTTP server, and owns the schedule and the shutdown. Tests build it with their own
// logger and clock.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { PulseClient } from "./adapters/pulse.ts";
import { createUpstream, type Upstream } from "./adapters/upstream.ts";
import { createPushlogClient } from "./adapters/pushlog.ts";
import { conduitMirrorChecker, createConduitClient, headMirrorChecker, type MirrorChecker } from "./adapters/phabricator.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createMonitor, type CheckReport, type Monitor } from "./monitor.ts";
import { createHttpServer } from "./server.ts";
import type { VersionInfo } from "./version.ts";

export interface AppOptions {
  config: Config;
  log: Logger;
  version: VersionInfo;
  readOnly: boolean;
  now?: () => number;
  /** How long a check waits for more messages once none arrive. */
  drainIdleMs?: number;
}

export interface App {
  config: Config;
  log: Logger;
  pulse: PulseClient;
  monitor: Monitor;
  metrics: Metrics;
  hg: Upstream;
  phabricator: Upstream;
  mirror: MirrorChecker;
  close(): Promise<void>;
}

export function buildApp(options: AppOptions): App {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const metrics = createMetrics({
    repositories: config.repositories,
    version: options.version.version,
    commit: options.version.commit,
    // The monitor is built below; the metrics only ask it at scrape time.
    lag: { lagSeconds: (repository, at) => monitor.lagSeconds(repository, at, pulse.connected) },
    now,
    log: log.child({ component: "metrics" }),
  });
  const observe = (service: "hgmo" | "phabricator", seconds: number, failed: boolean) => {
    metrics.upstreamDuration.observe({ service }, seconds);
    if (failed) metrics.upstreamFailures.inc({ service });
  };
  const hg = createUpstream({ service: "hgmo", baseUrl: config.hgUrl, timeoutMs: config.upstreamTimeoutMs, observe, connections: 8 });
  const phabricator = createUpstream({
    service: "phabricator",
    baseUrl: config.phabricatorUrl,
    timeoutMs: config.upstreamTimeoutMs,
    observe,
    connections: Math.max(8, config.phabricatorHeadConcurrency),
  });
  const mirror = config.phabricatorApiToken
    ? conduitMirrorChecker(createConduitClient(phabricator, config.phabricatorApiToken))
    : headMirrorChecker(phabricator, config.phabricatorHeadConcurrency);

  const pulseLog = log.child({ component: "pulse" });
  const pulse = new PulseClient({
    url: config.pulse.url,
    username: config.pulse.username,
    password: config.pulse.password,
    exchange: config.pulse.exchange,
    queue: config.pulse.queue,
    bindings: config.repositories.map((r) => r.path),
    readOnly: options.readOnly,
    log: pulseLog,
    connectTimeoutMs: Math.max(1000, Math.min(30_000, config.checkIntervalMs / 4)),
    onConnectedChange: (connected) => metrics.pulseConnected.set(connected ? 1 : 0),
    onReconnect: () => metrics.pulseReconnects.inc(),
    onConsumerCancel: () => {
      metrics.pulseConsumerCancels.inc();
      pulseLog.warn({ queue: config.pulse.queue }, "the broker cancelled our consumer (queue deleted?)");
    },
  });

  const monitor: Monitor = createMonitor({
    repositories: config.repositories,
    hgUrl: config.hgUrl,
    queue: config.pulse.queue,
    checkIntervalMs: config.checkIntervalMs,
    maxMessagesPerCheck: config.maxMessagesPerCheck,
    readOnly: options.readOnly,
    drain: (opts) => pulse.drain(opts),
    queueDepth: (queue) => pulse.queueDepth(queue),
    pushlog: createPushlogClient(hg),
    mirror,
    metrics,
    log: log.child({ component: "check" }),
    now,
    ...(options.drainIdleMs === undefined ? {} : { drainIdleMs: options.drainIdleMs }),
  });

  log.info(
    {
      repositories: config.repositories,
      queue: config.pulse.queue,
      exchange: config.pulse.exchange,
      mirrorCheck: mirror.kind === "conduit" ? "diffusion.commit.search (token set)" : "HEAD per commit (no PHABRICATOR_API_TOKEN)",
      schedule: config.checkSchedule,
      readOnly: options.readOnly,
    },
    "configured",
  );

  return {
    config,
    log,
    pulse,
    monitor,
    metrics,
    hg,
    phabricator,
    mirror,
    async close() {
      await pulse.stop();
      await Promise.all([hg.close(), phabricator.close()]);
    },
  };
}

/** One check, then close everything. */
export async function runOnce(app: App, signal?: AbortSignal): Promise<CheckReport> {
  try {
    return await app.monitor.runCheck(signal);
  } finally {
    await app.close();
  }
}

export interface RunningService {
  server: Server;
  port: number;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export async function startService(
  app: App,
  options: { port: number; metricsToken: string | undefined; version: VersionInfo; onReport?: (report: CheckReport) => void; now?: () => number },
): Promise<RunningService> {
  const { log, config, pulse, monitor } = app;
  const now = options.now ?? Date.now;
  const server = createHttpServer({
    registry: app.metrics.registry,
    metricsToken: options.metricsToken,
    version: options.version,
    onError: (error) => log.error({ err: error.message }, "http handler failed"),
    health: () => {
      const checks = monitor.health(now());
      const healthy = pulse.connected && checks.every((c) => c.healthy);
      return {
        healthy,
        body: {
          status: healthy ? "ok" : "error",
          pulse: { connected: pulse.connected },
          checks: Object.fromEntries(
            checks.map((c) => [
              c.repository,
              {
                healthy: c.healthy,
                lastSuccess: c.lastSuccessAt === undefined ? null : new Date(c.lastSuccessAt).toISOString(),
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

  pulse.keepConnected();

  let running: Promise<CheckReport | undefined> | undefined;
  let stopping = false;
  const controller = new AbortController();

  function checkNow(): Promise<CheckReport | undefined> {
    if (stopping) return Promise.resolve(undefined);
    if (running) {
      log.warn("a check is still running; this one is skipped");
      return running;
    }
    running = monitor
      .runCheck(controller.signal)
      .then((report) => {
        options.onReport?.(report);
        return report;
      })
      .catch((error: unknown) => {
        log.error({ err: (error as Error).message }, "check crashed");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const task: ScheduledTask = cron.schedule(config.checkSchedule, () => checkNow(), { name: "check", noOverlap: true });
  task.on("execution:missed", () => log.warn("a scheduled check was missed (the process was busy or asleep)"));
  void checkNow();

  return {
    server,
    port,
    async stop({ graceMs = 7000 } = {}) {
      if (stopping) return;
      stopping = true;
      log.info("stopping: no new checks; the running one hands back what it has not verified");
      await task.destroy();
      controller.abort();
      if (running) {
        await Promise.race([running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      }
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info("stopped");
    },
  };
}
