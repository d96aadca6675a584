// A check kind: one entry of the table (src/app/check-table.ts) that buildApp, /status,
// /__heartbeat__, --once and --json loop over. A kind says when it is off and why, which queue it
// reads, and builds itself (its metrics on the app's registry, its check on the runner) from the
// ports every kind shares. A new check is a folder that exports one of these, and a line of the table.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../config/config.ts";
import type { DrainOptions, QueueSpec } from "../pulse/pulse.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import type { Mirror } from "../mirror/mirror.ts";
import type { ReviewLookup } from "../phabricator/review-lookup.ts";
import type { QueueDepths } from "../pulse/queue-depths.ts";
import type { FailureReason } from "./check-failure.ts";
import type { Note } from "./check.ts";
import type { MessageMetrics } from "./message-metrics.ts";
import { measurementRecorder } from "./measurements.ts";
import type { QueueSession, RunnerPorts } from "./run-queue-check.ts";
import { runMetrics, type RunMetricNames } from "./run-metrics.ts";
import type { CopyAside } from "./set-aside.ts";

/** What every kind is built from: the configuration, the registry, and the adapters the root made once. */
export interface CheckContext {
  config: Config;
  registry: Registry;
  log: Logger;
  now: () => number;
  /** When this process started (ms): a repository with no input since is judged from here. */
  startedAt: number;
  readOnly: boolean;
  drainIdleMs: number | undefined;
  staleAfterMs: number;
  pulse: { drain: (options: DrainOptions) => Promise<QueueSession>; copyAside: CopyAside; connected: () => boolean };
  queueDepths: QueueDepths;
  pushlog: PushlogClient;
  /** Each repository's mirror, by hg path. */
  mirrors: ReadonlyMap<string, Mirror>;
  /** Conduit's reviews; undefined without PHABRICATOR_API_TOKEN. */
  reviews: ReviewLookup | undefined;
  messageMetrics: MessageMetrics;
}

/** A run's result as --once prints it and --json writes it. */
export interface RunReport {
  ok: boolean;
  lines: string[];
  json: unknown;
}

/** A built check, as the scheduler, --once, /status and /__heartbeat__ use it. */
export interface CheckInstance {
  readonly name: string;
  run(signal: AbortSignal): Promise<RunReport>;
  /** The report of a run that did not happen to its end (skipped, abandoned): unknown, with what is still known. */
  withoutRun(error: string, nowMs: number): RunReport;
  /** Its section of /status and of the page. */
  status(nowMs: number): unknown;
  /** Whether its last successful run is recent enough, and the details the metrics token shows. */
  health(nowMs: number): { healthy: boolean; details: unknown };
}

export interface CheckKind {
  readonly name: string;
  /**
   * The keys of its result in --json, of its section in /status and of its details in /__heartbeat__
   * (the names operators already read); none for a check without one.
   */
  readonly jsonKey?: string;
  readonly statusKey?: string;
  readonly heartbeatKey?: string;
  /** Whether /__heartbeat__'s status code depends on it, or it is only reported (another team's health). */
  readonly judged: boolean;
  /** Why it is off for this configuration; undefined when it runs. */
  off(config: Config): string | undefined;
  /** The start-up line of a check that is off, when its being off is worth one (the metrics it will not export). */
  offNotice?(config: Config, reason: string): Note;
  /** The queue it reads (declared and bound by the Pulse client), or none. */
  queue(config: Config): QueueSpec | undefined;
  create(context: CheckContext): CheckInstance;
}

/** The runner's ports for a kind's check: the shared adapters, its own run metrics. */
export function runnerPorts(
  context: CheckContext,
  options: { names: RunMetricNames; subjects: ReadonlyArray<{ labels: Readonly<Record<string, string>> }>; reasons: readonly FailureReason[]; log: Logger },
): RunnerPorts {
  const { config } = context;
  return {
    drain: (o) => context.pulse.drain(o),
    copyAside: context.pulse.copyAside,
    recordDepth: (queue, depth) => context.queueDepths.record(queue, depth),
    readDepth: (queue) => context.queueDepths.readOne(queue),
    readOnly: context.readOnly,
    maxMessagesPerCheck: config.maxMessagesPerCheck,
    drainIdleMs: context.drainIdleMs,
    messageMetrics: context.messageMetrics,
    record: measurementRecorder(context.registry),
    runMetrics: runMetrics(context.registry, options.names, options.subjects, options.reasons),
    staleAfterMs: context.staleAfterMs,
    log: options.log,
    now: context.now,
  };
}
