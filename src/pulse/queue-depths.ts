// The depth of every watched Pulse queue (our own and QUEUE_DEPTH_QUEUES), read by passive declares:
// recorded by each check, and refreshed for a scrape when the last reading is a few seconds old. A
// scrape never fails on a queue: a missing one loses its series, an unreadable one reads NaN, and each
// change is logged once (core/queue-watch.ts decides what to say).
import type { Logger } from "pino";
import { watchQueue, type DepthReading, type WatchState } from "./queue-watch.ts";

export interface QueueDepthOptions {
  /** Our own queues first; they are the ones PulseGuardian's thresholds are watched on. */
  own: readonly string[];
  others: readonly string[];
  read: (queue: string) => Promise<{ messages: number; consumers: number }>;
  log: Logger;
  now: () => number;
  /** A scrape reuses readings younger than this. */
  maxAgeMs?: number;
  /** A scrape waits at most this long for fresh readings. */
  timeoutMs?: number;
}

function readingOf(error: unknown): DepthReading {
  // amqplib gives the channel-close code: 404 NOT_FOUND from a passive declare of a missing queue.
  if ((error as { code?: unknown }).code === 404) return { kind: "missing" };
  return { kind: "unknown", reason: String((error as Error).message ?? error).slice(0, 200) };
}

export function createQueueDepths(options: QueueDepthOptions) {
  const own = new Set(options.own);
  const queues = [...new Set([...options.own, ...options.others])];
  const states = new Map<string, WatchState>();
  const readings = new Map<string, DepthReading>();
  const maxAgeMs = options.maxAgeMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 2000;
  let readAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;

  function record(queue: string, reading: DepthReading): void {
    const { state, notices } = watchQueue(queue, states.get(queue), reading, { own: own.has(queue) });
    states.set(queue, state);
    readings.set(queue, reading);
    for (const notice of notices) options.log[notice.level](notice.fields, notice.msg);
  }

  async function readOne(queue: string): Promise<{ messages: number; consumers: number }> {
    try {
      const depth = await options.read(queue);
      record(queue, { kind: "ok", ...depth });
      return depth;
    } catch (error) {
      record(queue, readingOf(error));
      throw error;
    }
  }

  async function refresh(): Promise<void> {
    refreshing ??= Promise.all(queues.map((q) => readOne(q).catch(() => undefined)))
      .then(() => {
        readAt = options.now();
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  return {
    queues,
    /** A depth a check has just read (or failed to read). */
    record: (queue: string, depth: { messages: number; consumers: number }) => record(queue, { kind: "ok", ...depth }),
    /** Reads one queue now, recording the result; throws as `read` does. */
    readOne,
    refresh,
    /** The last reading of each queue read so far (the scrape-time collector turns them into series). */
    readings: (): ReadonlyMap<string, DepthReading> => new Map(readings),
    /** For a scrape: fresh readings when the last are older than maxAgeMs, within timeoutMs. */
    async forScrape(): Promise<void> {
      if (options.now() - readAt >= maxAgeMs) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([refresh(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
        clearTimeout(timer);
      }
    },
  };
}

export type QueueDepths = ReturnType<typeof createQueueDepths>;
