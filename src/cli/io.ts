// What the commands need from the process, passed in so tests can run them in-process.
import { resolve } from "node:path";
import dotenv from "dotenv";
import type { DestinationStream } from "pino";

export interface Io {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  /** Where `.env` is looked for; the working directory when unset. */
  dotenvPath?: string;
  logDestination?: DestinationStream;
  drainIdleMs?: number;
  /** The bound on a whole shutdown; SHUTDOWN_DEADLINE_MS when unset. */
  shutdownDeadlineMs?: number;
  /** Registers for SIGTERM/SIGINT; returns the unregister function. */
  onSignal?: (handler: (signal: string) => void) => () => void;
}

export function processIo(): Io {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
  };
}

/** .env fills in what the environment leaves unset; it never overrides. Says where it looked, for the configuration errors. */
export function loadDotenv(io: Io): { path: string; found: boolean } {
  // dotenv's own default is the working directory's .env (lib/main.js, path.resolve(process.cwd(), '.env')).
  const path = resolve(io.dotenvPath ?? ".env");
  const result = dotenv.config({ quiet: true, processEnv: io.env, path });
  return { path, found: result.error === undefined };
}

/** The line after the configuration errors: where the values were looked for. */
export function dotenvNote(dotenvFile: { path: string; found: boolean }): string {
  return dotenvFile.found
    ? `note: read from the environment and from ${dotenvFile.path}\n`
    : `note: read from the environment only; there is no ${dotenvFile.path} (copy .env.example there to start one)\n`;
}

export function onShutdownSignal(io: Io, handler: (signal: string) => void): () => void {
  if (io.onSignal) return io.onSignal(handler);
  const listener = (signal: NodeJS.Signals) => handler(signal);
  process.once("SIGTERM", listener);
  process.once("SIGINT", listener);
  return () => {
    process.off("SIGTERM", listener);
    process.off("SIGINT", listener);
  };
}

/** `-v` means the version too (as `-V`): parseArgs gives an option one short letter only. */
export function versionFlags(argv: readonly string[]): string[] {
  return argv.map((a) => (a === "-v" ? "--version" : a));
}
