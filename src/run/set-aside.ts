// Set-aside messages are kept before they are acked: copied, body byte for byte, with their reason, to
// the rejected queue, where an operator reads them (display-lag --rejected).
import type { Logger } from "pino";
import type { SetAsideCopy } from "../pulse/pulse.ts";
import type { MessageMetrics } from "./message-metrics.ts";

/** Copies set-aside messages to the rejected queue; resolves with how many older copies were pushed out. */
export type CopyAside = (copies: readonly SetAsideCopy[], nowMs: number) => Promise<{ dropped: number }>;

/**
 * The acks a check may send once its set-aside messages are kept: when the broker confirmed every
 * copy, `ack` as it is; when it did not, `ack` without them, so they go back to the queue (where they
 * hold nothing up) and the next check tries again. Nothing set aside is ever acked uncopied.
 */
export async function keepSetAside(
  copies: ReadonlyArray<SetAsideCopy & { index: number }>,
  ack: readonly number[],
  context: { copyAside: CopyAside | undefined; metrics: MessageMetrics; log: Logger; nowMs: number },
): Promise<number[]> {
  if (copies.length === 0 || !context.copyAside) return [...ack];
  try {
    const { dropped } = await context.copyAside(copies, context.nowMs);
    if (dropped > 0) {
      context.metrics.rejectedDropped.inc(dropped);
      context.log.warn({ dropped }, "the rejected queue is full: its oldest copies were dropped");
    }
    return [...ack];
  } catch (error) {
    context.log.error({ err: error, count: copies.length }, "could not keep the set-aside messages; they stay on the queue until they can be");
    const aside = new Set(copies.map((c) => c.index));
    return ack.filter((i) => !aside.has(i));
  }
}
