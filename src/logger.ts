// pino JSON on stdout, one line per event; human-readable only for a person at a terminal.
import { pino, type DestinationStream, type Logger } from "pino";

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
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: "phabricator-repo-monitor" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  if (options.pretty && !options.destination) {
    return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,service" } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
