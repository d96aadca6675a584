// The Pulse connection's series, and the depth of every watched queue at each scrape (our own and
// QUEUE_DEPTH_QUEUES), with which of them are ours.
import { Counter, Gauge, type Registry } from "prom-client";
import type { CollectorLog } from "../run/lag-gauge.ts";
import type { DepthReading } from "./queue-watch.ts";

/** Set by the Pulse connection. */
export function pulseMetrics(registry: Registry) {
  const metrics = {
    pulseConnected: new Gauge({
      name: "phabmon_pulse_connected",
      help: "1 while connected to Pulse, 0 otherwise.",
      registers: [registry],
    }),
    pulseReconnects: new Counter({
      name: "phabmon_pulse_reconnects_total",
      help: "Times the Pulse connection was lost and re-established.",
      registers: [registry],
    }),
    pulseConsumerCancels: new Counter({
      name: "phabmon_pulse_consumer_cancels_total",
      help: "Times the broker cancelled our consumer (for example because the queue was deleted).",
      registers: [registry],
    }),
    rejectedQueueUsable: new Gauge({
      name: "phabmon_rejected_queue_usable",
      help: "1 while set-aside messages are kept in the rejected queue; 0 when it could not be declared (they are then logged whole and acked).",
      registers: [registry],
    }),
  };
  metrics.pulseConnected.set(0);
  metrics.rejectedQueueUsable.set(1);
  metrics.pulseReconnects.inc(0);
  metrics.pulseConsumerCancels.inc(0);
  return metrics;
}
export type PulseMetrics = ReturnType<typeof pulseMetrics>;

/**
 * phabmon_queue_messages and phabmon_queue_consumers, at each scrape, from the queue depth reader's
 * readings (refreshed first when they are a few seconds old): a missing queue has no series, an
 * unreadable one reads NaN.
 */
export function registerQueueCollectors(
  registry: Registry,
  depths: { forScrape(): Promise<void>; readings(): ReadonlyMap<string, DepthReading> },
  log?: CollectorLog,
): void {
  const gauge = (name: string, help: string, which: "messages" | "consumers") =>
    new Gauge({
      name,
      help,
      labelNames: ["queue"],
      registers: [registry],
      async collect() {
        try {
          await depths.forScrape();
        } catch (error) {
          log?.warn({ err: error }, "queue depth collector failed");
        }
        this.reset();
        for (const [queue, reading] of depths.readings()) {
          if (reading.kind === "ok") this.set({ queue }, reading[which]);
          else if (reading.kind === "unknown") this.set({ queue }, Number.NaN);
        }
      },
    });
  const which = "the service's own and those of QUEUE_DEPTH_QUEUES; absent for a queue that does not exist, NaN when it could not be read";
  gauge("phabmon_queue_messages", `Messages waiting in a watched Pulse queue (PulseGuardian warns at 2000 and deletes at 8000): ${which}.`, "messages");
  gauge("phabmon_queue_consumers", `Consumers of a watched Pulse queue: ${which}.`, "consumers");
}

/** phabmon_queue_owned: the service's own queues (1) and those watched for others (0), for the queue alerts. */
export function registerQueueOwnership(registry: Registry, options: { readings: () => ReadonlyMap<string, DepthReading>; own: readonly string[] }): void {
  const own = new Set(options.own);
  new Gauge({
    name: "phabmon_queue_owned",
    help: "1 for a queue this service declares and drains, 0 for one it only watches for another team (QUEUE_DEPTH_QUEUES).",
    labelNames: ["queue"],
    registers: [registry],
    collect() {
      this.reset();
      // As phabmon_queue_messages: a queue that does not exist has no series.
      for (const [queue, reading] of options.readings()) if (reading.kind !== "missing") this.set({ queue }, own.has(queue) ? 1 : 0);
      for (const queue of own) this.set({ queue }, 1);
    },
  });
}
