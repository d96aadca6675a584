// `report-lag`: the service, or one check with --once. Returns the exit code; bin/report-lag exits with it.
import { parseArgs } from "node:util";
import { secretsOf } from "../config/config.ts";
import { createLogger } from "../app/logger.ts";
import { buildApp, type App } from "../app/build-app.ts";
import { resultJson, resultLines, runOnce, type CheckResult } from "../app/run-once.ts";
import { startService } from "../app/service.ts";
import { versionInfo, type VersionInfo } from "../app/version.ts";
import { NO_REPORTS, createSentryReporter, type ErrorReporter } from "../app/error-reports.ts";
import { type Io, onShutdownSignal, versionFlags } from "./io.ts";
import { loadConfig } from "./load-config.ts";
import { checkConfig } from "./check-config.ts";

export const USAGE = `Usage: report-lag [options]

Reports how far the Phabricator mirror lags behind hg.mozilla.org, as Prometheus metrics on PORT.
Configuration comes from the environment and from a .env file in the working directory
(see .env.example); a variable already set in the environment wins.

Options:
  --once          run one check of every repository, print the result and exit
                  (0: every check completed; 1: a check failed; 2: bad configuration)
  --json          with --once: print the results as one JSON object instead of lines
  --no-send       read-only: ack nothing and declare nothing; every message read goes back to
                  the queue in order; print each result
  --debug         debug-level logs, human-readable on a terminal
  --check-config  validate the configuration, log in to Pulse (declaring nothing) and ask
                  Phabricator for each callsign, then exit (0 valid, 2 invalid); prints only
                  the problems, one line each, or the configuration once everything is right
  -V, -v, --version  print the version and exit
  -h, --help      print this help and exit

Exit status:
  0  the service stopped on SIGTERM or SIGINT; --once: every check completed (lagging or
     not); --check-config: the configuration is valid (Pulse or Phabricator not answering
     is said, and is not a configuration error)
  1  --once: a check failed (Pulse, hg.mozilla.org or Phabricator); the service: it
     could not start (e.g. PORT already in use)
  2  bad configuration (--check-config: also a login Pulse refuses, a token Phabricator
     refuses, a callsign it does not know), or a bad command line
`;

const OPTIONS = {
  once: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  "no-send": { type: "boolean", default: false },
  debug: { type: "boolean", default: false },
  "check-config": { type: "boolean", default: false },
  version: { type: "boolean", short: "V", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;
type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

/** The flags, or the exit code of a command line that ends before the configuration is read. */
function readFlags(argv: string[], io: Io): Flags | number {
  let values: Flags;
  try {
    ({ values } = parseArgs({ args: versionFlags(argv), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    io.stderr(`report-lag: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.version) {
    const version = versionInfo(io.env);
    io.stdout(`report-lag ${version.version} (${version.commit})\n`);
    return 0;
  }
  if (values.json && !values.once) {
    // The service prints nothing to parse; silently ignoring the flag would leave a script waiting.
    io.stderr(`report-lag: --json needs --once\n\n${USAGE}`);
    return 2;
  }
  return values;
}

export async function reportLag(argv: string[], io: Io): Promise<number> {
  const values = readFlags(argv, io);
  if (typeof values === "number") return values;
  const config = loadConfig(io);
  if (config === 2) return 2;
  if (values["check-config"]) return checkConfig(config, io);

  const version = versionInfo(io.env);
  const readOnly = values["no-send"];
  const log = createLogger({
    level: values.debug ? "debug" : config.logLevel,
    pretty: values.debug && io.isTTY,
    toStderr: values.once,
    secrets: secretsOf(config),
    ...(io.logDestination ? { destination: io.logDestination } : {}),
  });
  const errors: ErrorReporter =
    config.sentryDsn === undefined
      ? NO_REPORTS
      : await createSentryReporter({
          dsn: config.sentryDsn,
          release: `phabricator-repo-monitor@${version.version}+${version.commit}`,
          environment: undefined,
          secrets: secretsOf(config),
          log,
        });
  const app = buildApp({ config, log, version, readOnly, errors, ...(io.drainIdleMs === undefined ? {} : { drainIdleMs: io.drainIdleMs }) });
  try {
    return values.once ? await once(app, values.json, io) : await serve(app, { version, readOnly }, io);
  } finally {
    await errors.flush(2000);
  }
}

const printed = (io: Io) => (result: CheckResult) => {
  for (const line of resultLines(result)) io.stdout(`${line}\n`);
};

/** `--once`: every check of the table once, its lines (or `--json`), exit 0 when every check completed. */
async function once(app: App, json: boolean, io: Io): Promise<number> {
  const controller = new AbortController();
  const removeHandler = onShutdownSignal(io, (signal) => {
    app.log.info({ signal }, "stopping the check");
    controller.abort();
  });
  try {
    const report = await runOnce(app, controller.signal);
    if (json) io.stdout(`${JSON.stringify(resultJson(report))}\n`);
    else printed(io)(report);
    return report.ok ? 0 : 1;
  } finally {
    removeHandler();
  }
}

/** The service until SIGTERM or Ctrl-C; under `--no-send` each run's lines are printed too. */
async function serve(app: App, options: { version: VersionInfo; readOnly: boolean }, io: Io): Promise<number> {
  const { config } = app;
  const service = await startService(app, {
    port: config.port,
    metricsTokens: config.metricsTokens,
    version: options.version,
    ...(options.readOnly ? { onReport: printed(io) } : {}),
  });
  await new Promise<void>((resolve) => {
    onShutdownSignal(io, (signal) => {
      app.log.info({ signal }, "shutdown signal");
      resolve();
    });
  });
  await service.stop(io.shutdownDeadlineMs === undefined ? {} : { deadlineMs: io.shutdownDeadlineMs });
  return 0;
}
