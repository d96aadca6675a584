// The long-running service: the HTTP server on PORT, the connection kept to Pulse, a run of every
// check at start and then on CHECK_SCHEDULE, the DogStatsD gauges when asked for, and a stop bounded
// below Heroku's 30 s.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startCheckTimer } from "../run/check-timer.ts";
import { legacyLagGauges } from "./legacy-gauges.ts";
import { createStatsdSender, type GaugeSender } from "./statsd.ts";
import type { App } from "./build-app.ts";
import { runChecks, type CheckResult } from "./run-once.ts";
import type { VersionInfo } from "./version.ts";

/** The whole of a stop, below the 30 s Heroku gives a dyno between SIGTERM and SIGKILL. */
export const SHUTDOWN_DEADLINE_MS = 25_000;

export interface RunningService {
  server: Server;
  port: number;
  stop(options?: { graceMs?: number; deadlineMs?: number }): Promise<void>;
}

export async function startService(
  app: App,
  options: { port: number; metricsTokens: readonly string[]; version: VersionInfo; onReport?: (result: CheckResult) => void },
): Promise<RunningService> {
  const { log, config, pulse } = app;
  const { server, port } = await listen(app, options);
  pulse.keepConnected();
  const statsd = config.statsd === undefined ? undefined : await startStatsd(app, config.statsd);
  const checks = checkRunner(app, {
    onReport: (report) => {
      options.onReport?.(report);
      statsd?.sendNow();
    },
  });
  // A person who started it by hand should know it does not end by itself, and when it acts next.
  log.info({ schedule: config.checkSchedule }, "running until SIGTERM or Ctrl-C: a check now, then on CHECK_SCHEDULE");
  void checks.now();

  let stopping = false;
  return {
    server,
    port,
    async stop({ graceMs = 7000, deadlineMs = SHUTDOWN_DEADLINE_MS } = {}) {
      if (stopping) return;
      stopping = true;
      log.info("stopping: no new checks; the running one hands back what it has not verified");
      const steps = async () => {
        await checks.stop(graceMs);
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

/** The HTTP server, listening on PORT. */
async function listen(app: App, options: { port: number; metricsTokens: readonly string[]; version: VersionInfo }): Promise<{ server: Server; port: number }> {
  const { log } = app;
  // Loaded here, not at the top: `report-lag --once` serves nothing, and node:http with the status
  // page cost 20-30 ms of a one-shot check's start (measured after undici, which --once loads anyway).
  const { createHttpServer } = await import("../http/server.ts");
  const server = createHttpServer({
    registry: app.registry,
    metricsTokens: options.metricsTokens,
    version: options.version,
    status: () => app.status(),
    onError: (error) => {
      log.error({ err: error }, "http handler failed");
      app.errors.report(error, "http");
    },
    health: () => app.health(),
  });
  // Heroku routes to 0.0.0.0:$PORT and kills a web dyno that has not bound it within 60 s: listen first.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, "listening");
  if (options.metricsTokens.length === 0) {
    log.warn("METRICS_TOKEN is not set: /metrics, /status and / are public (set it to a random string of 16 characters or more)");
  }
  return { server, port };
}

/** Runs every check of the table now and on CHECK_SCHEDULE, one run at a time; stop hands back what a run has not verified. */
function checkRunner(
  app: App,
  options: { onReport: (result: CheckResult) => void },
): { now(): Promise<CheckResult | undefined>; stop(graceMs: number): Promise<void> } {
  const { log, config } = app;
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

  function checkNow(): Promise<CheckResult | undefined> {
    if (stopping) return Promise.resolve(undefined);
    if (running) {
      log.warn("a check is still running; this one is skipped");
      return running;
    }
    running = runChecks(app, controller.signal)
      .then((report) => {
        options.onReport(report);
        if (!stopping) log.info({ nextCheck: timer.nextRun()?.toISOString() ?? null, schedule: config.checkSchedule }, "waiting for the next check");
        return report;
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "check crashed");
        app.errors.report(error, "check");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    now: checkNow,
    async stop(graceMs) {
      stopping = true;
      await timer.stop();
      controller.abort();
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
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
