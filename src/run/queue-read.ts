// The one way a check reads one of our queues and settles what it read, shared by the replication
// check and the code-review pipeline check: drain → decode → plan → account → other-consumer guard →
// queue-lost flag, and later settle → keep set-aside copies → ack. The checks decide which pushes are
// settled; this module turns that into acks, copies and counts.
import type { Logger } from "pino";
import type { Delivery, DrainOptions } from "../pulse/pulse.ts";
import { planCheck, settleCheck, type CheckPlan } from "../hgpush/check-plan.ts";
import { decodeHgpushMessage, type DecodedMessage } from "../hgpush/hgpush-message.ts";
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";
import { unusableInput } from "../hgpush/input-evidence.ts";
import { SharedQueueError, checkFailure, type CheckFailure } from "./check-failure.ts";
import { accountMessages, keepSetAside, type CopyAside } from "./message-accounting.ts";
import type { MessageMetrics } from "../app/metrics.ts";

/** One read of a queue, as the Pulse adapter hands it over. */
export interface QueueSession {
  readonly deliveries: readonly Delivery[];
  readonly depthAtStart: { messages: number; consumers: number };
  readonly otherConsumers: number;
  /** The queue was declared again before this check, after it had been deleted. */
  readonly queueRecreated: boolean;
  /** The broker cancelled the consumer during this check: the queue, and the messages read, are gone. */
  readonly cancelled: boolean;
  settle(ack: readonly number[]): Promise<boolean>;
  abandon(): Promise<void>;
}

/** What a check that reads one of our queues needs, whichever check it is. */
export interface QueueCheckDeps {
  hgUrl: string;
  queue: string;
  checkIntervalMs: number;
  maxMessagesPerCheck: number;
  readOnly: boolean;
  drain: (options: DrainOptions) => Promise<QueueSession>;
  /** Records a depth read along the way. */
  recordDepth: (queue: string, depth: { messages: number; consumers: number }) => void;
  messageMetrics: MessageMetrics;
  log: Logger;
  now: () => number;
  drainIdleMs?: number;
  /** Where set-aside messages are kept; absent (tests of the core), they are only counted and logged. */
  copyAside?: CopyAside;
}

/** A queue read whose messages are decoded and planned, waiting to be settled. */
export interface QueueRead {
  readonly kind: "read";
  readonly session: QueueSession;
  readonly decoded: readonly DecodedMessage[];
  readonly plan: CheckPlan;
  /**
   * The queue was deleted since the last check (declared again) or during this one (consumer
   * cancelled): messages may be lost, so the pushlog, not the queue, says what is newer.
   */
  readonly queueLost: boolean;
  /** Per monitored repository: why its input cannot be vouched for this check (input-evidence.ts). */
  readonly unusable: ReadonlyMap<string, string>;
  /** Monitored repositories for which a message arrived for the first time (not a redelivery): input. */
  readonly receivedNew: ReadonlySet<string>;
}

/** A read that gives the check nothing to judge: the queue could not be read, or is not ours alone. */
export interface QueueNotRead {
  readonly kind: "failed" | "shared";
  readonly failure: CheckFailure;
  readonly messages: number;
}

export async function readQueue(deps: QueueCheckDeps, monitored: ReadonlySet<string>, signal?: AbortSignal): Promise<QueueRead | QueueNotRead> {
  const decode = (d: Delivery) => decodeHgpushMessage({ body: d.body, contentType: d.contentType, routingKey: d.routingKey }, deps.hgUrl);
  // Decoded as they arrive: the CPU work of 5,000 messages is done while the broker still sends them.
  const decodedOnArrival: DecodedMessage[] = [];
  let session: QueueSession;
  try {
    session = await deps.drain({
      queue: deps.queue,
      maxMessages: deps.maxMessagesPerCheck,
      idleMs: deps.drainIdleMs ?? 1000,
      signal,
      onDelivery: (d) => (decodedOnArrival[d.index] = decode(d)),
    });
  } catch (err) {
    return { kind: "failed", failure: checkFailure("queue", "pulse", err, { signal }), messages: 0 };
  }
  deps.recordDepth(deps.queue, session.depthAtStart);
  if (session.otherConsumers > 0) {
    // Another instance (Heroku starts the new dyno before stopping the old one) holds part of the
    // queue. Judging the rest could ack pushes queued behind one it holds, and an empty view would
    // read as healthy: hand everything back and say the check could not be done.
    await session.abandon();
    deps.log.warn({ queue: deps.queue, consumers: session.otherConsumers }, "check skipped: another consumer is reading the queue");
    const shared = new SharedQueueError(`another consumer is reading ${deps.queue} (${session.otherConsumers}); everything was handed back`);
    return { kind: "shared", failure: checkFailure("queue", "pulse", shared), messages: session.deliveries.length };
  }
  const decoded = session.deliveries.map((d) => decodedOnArrival[d.index] ?? decode(d));
  const plan = planCheck(
    decoded.map((message, index) => ({ index, decoded: message })),
    monitored,
  );
  const receivedNew = accountMessages(session.deliveries, decoded, plan, { monitored, metrics: deps.messageMetrics, log: deps.log, atMs: deps.now() });
  const unusable = unusableInput(
    decoded.map((d, i) => ({ routingKey: session.deliveries[i]?.routingKey ?? "", decoded: d })),
    monitored,
    deps.hgUrl,
  );
  return { kind: "read", session, decoded, plan, queueLost: session.queueRecreated || session.cancelled, unusable, receivedNew };
}

/** What the check made of the pushes it read: per repository the push ids it is done with, and why some were given up. */
export interface QueueOutcome {
  /** Verified or given up: a carrier whose every push is here is acked. */
  settled: ReadonlyMap<string, ReadonlySet<number>>;
  /** Pushes the pushlog will never list, keyed `repository#pushId`: their carriers are set aside. */
  givenUp: ReadonlyMap<string, GiveUpReason>;
}

export const givenUpKey = (repository: string, pushId: number): string => `${repository}#${pushId}`;

/**
 * Acks what the outcome settles (copying set-aside messages to the rejected queue first) and hands
 * back the rest. Resolves with whether the broker took the acks; read-only, it hands everything back.
 */
export async function settleQueueRead(deps: QueueCheckDeps, read: QueueRead, outcome: QueueOutcome): Promise<{ acked: boolean; failure?: CheckFailure }> {
  const { session, plan } = read;
  if (deps.readOnly) {
    await session.abandon();
    return { acked: false };
  }
  const settlement = settleCheck(plan, outcome.settled, session.deliveries.length);
  // Only what this check acks is copied: a message that goes back would be copied again.
  const acking = new Set(settlement.ack);
  const copies: Array<{ index: number; delivery: Delivery; reason: string; givenUp: boolean }> = [];
  for (const aside of plan.setAside) {
    if (aside.outcome === "rejected" && acking.has(aside.index))
      copies.push({ index: aside.index, delivery: session.deliveries[aside.index] as Delivery, reason: aside.reason, givenUp: false });
  }
  for (const [index, carrier] of plan.carriers) {
    if (!acking.has(index)) continue;
    const reason = carrier.pushIds.map((id) => outcome.givenUp.get(givenUpKey(carrier.repository, id))).find((r) => r !== undefined);
    if (reason !== undefined) copies.push({ index, delivery: session.deliveries[index] as Delivery, reason, givenUp: true });
  }
  const ack = await keepSetAside(copies, settlement.ack, { copyAside: deps.copyAside, metrics: deps.messageMetrics, log: deps.log, nowMs: deps.now() });
  const acked = await session.settle(ack);
  if (acked) {
    // The decoder's rejections were counted as they were read; a message given up is counted once it is gone.
    const done = new Set(ack);
    for (const c of copies) if (c.givenUp && done.has(c.index)) deps.messageMetrics.messagesRejected.inc({ reason: c.reason });
  }
  if (!acked && session.deliveries.length > 0) {
    return { acked: false, failure: checkFailure("settle", "pulse", new Error("the broker did not take the acks; the messages stay queued")) };
  }
  return { acked: true };
}
