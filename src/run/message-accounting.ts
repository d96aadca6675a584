// What every check does with the messages it read, whichever queue they came from: count the new
// ones, and count and log (once, truncated) the ones set aside. Shared by the replication check and
// the code-review pipeline check.
import type { Logger } from "pino";
import type { Delivery, SetAsideCopy } from "../pulse/pulse.ts";
import type { CheckPlan } from "../hgpush/check-plan.ts";
import type { DecodedMessage } from "../hgpush/hgpush-message.ts";
import type { MessageMetrics } from "../app/metrics.ts";

/** Truncated, so one huge or hostile body cannot flood the log. */
function preview(body: Uint8Array): string {
  return Buffer.from(body.subarray(0, 300)).toString("utf8");
}

/** Counts and logs what a check read; returns the monitored repositories that got a message for the first time (not a redelivery). */
export function accountMessages(
  deliveries: readonly Delivery[],
  decoded: readonly DecodedMessage[],
  plan: CheckPlan,
  context: { monitored: ReadonlySet<string>; metrics: MessageMetrics; log: Logger; atMs: number },
): Set<string> {
  const { metrics, log, monitored } = context;
  // Counted per repository and set once: a label lookup per message was most of the ~15 ms this took for 5,000.
  const received = new Map<string, number>();
  const debug = log.isLevelEnabled("debug");
  decoded.forEach((message, index) => {
    const delivery = deliveries[index] as Delivery;
    if (message.kind === "rejected") return;
    const repository = message.repository;
    if (repository && monitored.has(repository) && !delivery.redelivered) received.set(repository, (received.get(repository) ?? 0) + 1);
    if (debug && message.kind === "pushes") {
      log.debug({ repository, pushIds: message.pushes.map((p) => p.pushId), redelivered: delivery.redelivered }, "read a push message");
    }
  });
  for (const [repository, count] of received) {
    metrics.messagesReceived.inc({ repository }, count);
    metrics.lastPushReceived.set({ repository }, context.atMs / 1000);
  }
  for (const aside of plan.setAside) {
    const delivery = deliveries[aside.index] as Delivery;
    if (aside.outcome === "duplicate") {
      metrics.duplicateMessages.inc({ repository: aside.repository });
    } else if (aside.outcome === "skipped") {
      metrics.messagesSkipped.inc({ reason: aside.reason });
      log.debug({ reason: aside.reason, routingKey: delivery.routingKey }, "skipped a message with nothing to verify");
    } else {
      metrics.messagesRejected.inc({ reason: aside.reason });
      log.warn(
        { reason: aside.reason, detail: aside.detail, routingKey: delivery.routingKey.slice(0, 200), body: preview(delivery.body) },
        "set aside a malformed or foreign message",
      );
    }
  }
  return new Set(received.keys());
}

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
    context.log.error(
      { err: (error as Error).message, count: copies.length },
      "could not keep the set-aside messages; they stay on the queue until they can be",
    );
    const aside = new Set(copies.map((c) => c.index));
    return ack.filter((i) => !aside.has(i));
  }
}
