// Unexpected errors (a bug, not an upstream failure: those are the checks' reports and metrics) to
// Sentry with its official SDK, @sentry/node, loaded only when SENTRY_DSN is set: a service without it
// loads none of it (bench/README.md measures both). Every event and breadcrumb goes through
// scrubSecrets before it leaves, so the Pulse password, the Conduit token and the metrics token never do.
import type { Logger } from "pino";
import { scrubSecrets } from "../core/scrub.ts";

export interface ErrorReporter {
  /** Reports an error that should not happen; `where` says which part of the service met it. */
  report(error: unknown, where: string): void;
  /** Sends what is queued, waiting at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

export const NO_REPORTS: ErrorReporter = { report: () => undefined, flush: () => Promise.resolve() };

export async function createSentryReporter(options: {
  dsn: string;
  release: string;
  environment: string | undefined;
  secrets: readonly (string | undefined)[];
  log: Logger;
}): Promise<ErrorReporter> {
  const Sentry = await import("@sentry/node");
  const secrets = [...options.secrets, options.dsn];
  Sentry.init({
    dsn: options.dsn,
    release: options.release,
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    // Errors only: no tracing, no OpenTelemetry provider, no module patching, none of the default
    // integrations (HTTP breadcrumbs would carry upstream URLs; console capture would double the logs).
    defaultIntegrations: false,
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    integrations: [Sentry.linkedErrorsIntegration(), Sentry.onUncaughtExceptionIntegration(), Sentry.onUnhandledRejectionIntegration({ mode: "strict" })],
    beforeSend: (event) => scrubSecrets(event, secrets),
    beforeBreadcrumb: (breadcrumb) => scrubSecrets(breadcrumb, secrets),
  });
  options.log.info("reporting unexpected errors to Sentry (SENTRY_DSN)");
  return {
    report(error, where) {
      Sentry.captureException(error, { tags: { where } });
    },
    async flush(timeoutMs) {
      await Sentry.flush(timeoutMs);
    },
  };
}
