// `report-lag`: the service, or one check with --once. Returns the exit code; bin/report-lag exits with it.
import { parseArgs } from "node:util";
import { pipelineOffReason, secretsOf, type Config } from "../config/config.ts";
import { createLogger } from "../app/logger.ts";
import { buildApp, type App } from "../app/build-app.ts";
import { resultJson, resultLines, runOnce, type CheckResult } from "../app/run-once.ts";
import { startService } from "../app/service.ts";
import { versionInfo, type VersionInfo } from "../app/version.ts";
import { createUpstream, type Upstream } from "../upstream/upstream.ts";
import {
  AnonymousAccessError,
  RefusedTokenError,
  createConduitClient,
  pageMirror,
  resolveRepositories,
  type ConduitClient,
} from "../phabricator/phabricator.ts";
import { UnknownRepositoryError, mirrorName } from "../mirror/mirror.ts";
import { NO_REPORTS, createSentryReporter, type ErrorReporter } from "../app/error-reports.ts";
import { type Io, onShutdownSignal, versionFlags } from "./io.ts";
import { loadConfig } from "./load-config.ts";

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
  --check-config  validate the configuration and exit (0 valid, 2 invalid)
  -V, -v, --version  print the version and exit
  -h, --help      print this help and exit
`;

/**
 * Asks Phabricator whether each callsign of REPOSITORIES is a repository it will answer for: through
 * Conduit with a token, through the repository pages without one. A callsign it does not know, a
 * refused token, or pages that are the login form (a token is needed) are invalid configuration
 * (exit 2). Phabricator unreachable is said, and is not a configuration error: a release phase must
 * not fail because Phabricator is down.
 */
async function checkCallsigns(config: Config, io: Io): Promise<number> {
  const callsigns = [...new Set(config.repositories.map((r) => r.mirror.callsign))];
  const phabricator = createUpstream({
    service: "phabricator",
    baseUrl: config.phabricatorUrl,
    timeoutMs: config.upstreamTimeoutMs,
    observe: () => undefined,
    connections: 1,
    secrets: secretsOf(config),
  });
  const invalid = (error: unknown) => error instanceof RefusedTokenError || error instanceof AnonymousAccessError;
  try {
    const token = config.phabricatorApiToken;
    const missing = token
      ? await callsignsByConduit(createConduitClient(phabricator, token, secretsOf(config)), callsigns, io)
      : await callsignsByPages(phabricator, callsigns, io);
    for (const callsign of missing) io.stderr(`configuration error: REPOSITORIES: Phabricator has no repository with the callsign ${callsign}\n`);
    return missing.length > 0 ? 2 : 0;
  } catch (error) {
    if (invalid(error)) {
      io.stderr(`configuration error: ${error.message}\n`);
      return 2;
    }
    io.stdout(`callsigns: not checked, Phabricator did not answer (${(error as Error).message})\n`);
    return 0;
  } finally {
    await phabricator.close();
  }
}

/** Each callsign's repository PHID; returns the callsigns Phabricator does not know. */
async function callsignsByConduit(conduit: ConduitClient, callsigns: readonly string[], io: Io): Promise<string[]> {
  const found = await resolveRepositories(conduit, callsigns);
  for (const [callsign, phid] of found) io.stdout(`callsign ${callsign}: repository ${phid}\n`);
  return callsigns.filter((c) => !found.has(c));
}

/** Each callsign's repository page, read as an anonymous visitor; returns the callsigns Phabricator does not know. */
async function callsignsByPages(phabricator: Upstream, callsigns: readonly string[], io: Io): Promise<string[]> {
  const missing: string[] = [];
  for (const callsign of callsigns) {
    try {
      await pageMirror(phabricator, callsign, 1).exists();
      io.stdout(`callsign ${callsign}: its repository page is readable without a token\n`);
    } catch (error) {
      if (!(error instanceof UnknownRepositoryError)) throw error;
      missing.push(callsign);
    }
  }
  return missing;
}

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

/** `--check-config`: what the configuration says, then whether Phabricator knows its callsigns. */
function checkConfig(config: Config, io: Io): Promise<number> {
  const repos = config.repositories.map((r) => `${r.path}=${mirrorName(r.mirror)}${r.mirror.vcs === "git" ? ":git" : ""}`).join(", ");
  const off = pipelineOffReason(config);
  io.stdout(`configuration is valid: queue ${config.pulse.queue} on ${config.pulse.url.host}, repositories ${repos}\n`);
  io.stdout(
    off === undefined
      ? `code-review pipeline metrics: on (Try repository ${config.codeReviewTryRepository}, queue ${config.pulse.tryQueue})\n`
      : `code-review pipeline metrics: off (${off})\n`,
  );
  return checkCallsigns(config, io);
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
