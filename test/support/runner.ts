// Fakes of the runner's queue port (src/run/run-queue-check.ts QueueSession, as the Pulse adapter's
// session in src/pulse/pulse.ts behaves: settle acks the listed indexes and requeues the rest, abandon
// requeues everything) and the runner's other ports over a registry, for checks tested without a broker.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Delivery } from "../../src/pulse/pulse.ts";
import { measurementRecorder } from "../../src/run/measurements.ts";
import { messageMetrics } from "../../src/run/message-metrics.ts";
import type { QueueSession, RunnerPorts } from "../../src/run/run-queue-check.ts";
import { runMetrics, type RunMetricNames } from "../../src/run/run-metrics.ts";

export interface FakeSession {
  session: QueueSession;
  /** The ack list of each settle. */
  acked: number[][];
  abandoned: () => number;
}

export function fakeSession(
  bodies: ReadonlyArray<{ routingKey: string; body: unknown; redelivered?: boolean }>,
  options: { otherConsumers?: number; settles?: boolean } = {},
): FakeSession {
  const deliveries: Delivery[] = bodies.map(({ routingKey, body, redelivered }, index) => ({
    index,
    routingKey,
    exchange: "exchange/hgpushes/v2",
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
    contentType: "application/json",
    redelivered: redelivered ?? false,
  }));
  const acked: number[][] = [];
  let abandoned = 0;
  const otherConsumers = options.otherConsumers ?? 0;
  return {
    session: {
      deliveries,
      depthAtStart: { messages: deliveries.length, consumers: 1 + otherConsumers },
      otherConsumers,
      queueRecreated: false,
      cancelled: false,
      settle: (ack) => {
        acked.push([...ack]);
        return Promise.resolve(options.settles ?? true);
      },
      abandon: () => {
        abandoned++;
        return Promise.resolve();
      },
    },
    acked,
    abandoned: () => abandoned,
  };
}

/** The runner's ports, recording on `registry` (where the check's own metrics must be declared). */
export function fakeRunnerPorts(options: {
  registry: Registry;
  drain: () => Promise<QueueSession>;
  names: RunMetricNames;
  subjects: ReadonlyArray<{ labels: Readonly<Record<string, string>> }>;
  log: Logger;
  now: () => number;
  readOnly?: boolean;
  repositories?: ReadonlyArray<{ path: string }>;
}): RunnerPorts {
  return {
    drain: options.drain,
    recordDepth: () => undefined,
    readDepth: () => Promise.resolve(),
    readOnly: options.readOnly ?? false,
    maxMessagesPerCheck: 10_000,
    messageMetrics: messageMetrics(options.registry, options.repositories ?? []),
    record: measurementRecorder(options.registry),
    runMetrics: runMetrics(options.registry, options.names, options.subjects),
    staleAfterMs: 900_000,
    log: options.log,
    now: options.now,
  };
}
