// pino JSON, one line per event, on stdout for the service and on stderr for the commands whose results
// go to stdout (`--once`, display-lag); human-readable only for a person at a terminal.
import { pino, type DestinationStream, type Logger } from "pino";
import { scrubSecrets } from "../core/scrub.ts";
import { createRequire } from "node:module";
import type PinoPretty from "pino-pretty";

/** Keys that may hold a secret wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  "password",
  "token",
  "authorization",
  "*.password",
  "*.token",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "PULSE_PASSWORD",
  "PHABRICATOR_API_TOKEN",
  "METRICS_TOKEN",
];

export interface LoggerOptions {
  level: string;
  /** Pretty-print (pino-pretty) instead of JSON; for `--debug` on a terminal. */
  pretty?: boolean;
  destination?: DestinationStream;
  /** Logs on stderr (fd 2), so that stdout carries results only and can be piped. */
  toStderr?: boolean;
  /** The process's secrets: scrubbed from every logged error (message, stack and causes), whatever made it. */
  secrets?: readonly string[];
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: "phabricator-repo-monitor" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    // Errors are logged whole under `err` (type, message, stack, causes: pino's serializer); errors
    // made from upstream answers are scrubbed where they are made, and this is the net under the rest.
    serializers: { err: (error: Error) => scrubSecrets(pino.stdSerializers.err(error), options.secrets ?? []) },
  };
  const fd = options.toStderr ? 2 : 1;
  if (options.pretty && !options.destination) {
    // In this thread and synchronous (a transport is a worker thread that writes later): the result lines
    // printed after the logs come after them on the terminal too.
    // Loaded only here: the service itself never pays for it.
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    return pino(base, pretty({ colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,service", sync: true, destination: fd }));
  }
  return pino(base, options.destination ?? pino.destination({ fd, sync: true }));
}
