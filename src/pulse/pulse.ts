// The Pulse edge: one AMQP connection, rebuilt with backoff when it fails, and a short-lived channel
// per check that takes what is waiting, then acks what was verified and hands the rest back in order.
// No delivery is held between checks: RabbitMQ closes a channel that holds one for 30 minutes.
import { setTimeout as sleep } from "node:timers/promises";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { Logger } from "pino";
import { missingQueueMessage, oneLine } from "./pulse-errors.ts";
import { PulseError, connectPulse, vhostOf } from "./connect.ts";
import { scrubSecrets } from "../core/scrub.ts";

export interface PulseOptions {
  url: URL;
  username: string;
  password: string;
  exchange: string;
  /** The durable queues the service owns, each with the routing keys (hg paths) bound to it; the first is the main one. */
  queues: readonly QueueSpec[];
  /** Declare nothing and bind nothing: check the exchange when connecting, and each queue when it is read. */
  readOnly: boolean;
  log: Logger;
  heartbeatSeconds?: number;
  /** Bound on connecting, TLS and the AMQP handshake together. */
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  onConnectedChange?: (connected: boolean) => void;
  onReconnect?: () => void;
  onConsumerCancel?: () => void;
  /** Where set-aside messages are copied; absent, nothing is copied. */
  rejected?: { exchange: string; queue: string; maxLength: number };
  /** The rejected queue could not be declared: set-aside messages are logged whole and acked, not kept. */
  onRejectedUnavailable?: (unavailable: boolean) => void;
  /** Every secret the process holds: scrubbed from whatever the broker's words put in an error or a log line. */
  secrets?: readonly (string | undefined)[];
}

/** A connection that stays up this long was a success: the next failure starts the backoff again from its floor. */
export const STABLE_CONNECTION_MS = 60_000;

/** A message set aside, to be copied to the rejected queue before it is acked off ours. */
export interface SetAsideCopy {
  delivery: Delivery;
  /** A short fixed word: `schema`, `foreign_host`, `stripped`, … */
  reason: string;
}

/** A message kept in the rejected queue, as `display-lag --rejected` shows it. */
export interface KeptMessage {
  reason: string;
  routingKey: string;
  /** Unix ms when it was set aside. */
  at: number | undefined;
  body: Buffer;
}

export interface QueueSpec {
  name: string;
  bindings: readonly string[];
  /** The exchange its bindings are on, when not the options' (Lando's pushes for the Git queue). */
  exchange?: string;
}

export interface Delivery {
  /** Place in delivery order within the check. */
  index: number;
  routingKey: string;
  exchange: string;
  body: Buffer;
  contentType: string | undefined;
  redelivered: boolean;
}

export interface DrainOptions {
  /** One of the queues of PulseOptions; the main one when absent. */
  queue?: string;
  maxMessages: number;
  /** Stop waiting for more once nothing has arrived for this long. */
  idleMs?: number;
  signal?: AbortSignal | undefined;
  /** Called with each delivery as it arrives, while the rest are still on their way. */
  onDelivery?: (delivery: Delivery) => void;
}

export { PulseError };

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export class PulseClient {
  private readonly options: PulseOptions;
  private model: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private stopping = false;
  private readonly stopController = new AbortController();
  private everConnected = false;
  private background = false;
  private readonly declared = new Set<string>();
  /**
   * Attempts in a row that failed, or connections that did not stay up STABLE_CONNECTION_MS: a broker
   * that accepts and then drops every connection is retried with a growing delay, not at once.
   */
  private failures = 0;
  /** False once the rejected queue could not be declared; set-aside messages are then logged and acked. */
  private rejectedUsable = true;
  /** Queues that were re-created; the next check of each takes the flag (and backfills from the pushlog). */
  private readonly recreated = new Set<string>();

  constructor(options: PulseOptions) {
    this.options = options;
  }

  get connected(): boolean {
    return this.model !== undefined;
  }

  /**
   * The live connection. Without keepConnected, connects first if needed (one attempt); with it, a
   * caller never adds attempts of its own to the background loop's backoff.
   */
  async connection(): Promise<ChannelModel> {
    if (this.model) return this.model;
    if (this.connecting) return this.connecting;
    if (this.background) throw new PulseError(`not connected to ${this.options.url.host}; reconnecting in the background`);
    return this.connectNow();
  }

  private connectNow(): Promise<ChannelModel> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Keeps trying to connect in the background, with capped exponential backoff and jitter. */
  keepConnected(firstDelayMs = 0): void {
    this.background = true;
    void this.reconnectLoop(firstDelayMs);
  }

  private async reconnectLoop(firstDelayMs: number): Promise<void> {
    let delay = firstDelayMs;
    while (!this.stopping && !this.model) {
      if (delay > 0) {
        // Through timers/promises: its listener on the stop signal goes when the wait ends, where a
        // hand-added one would stay for every attempt of a long outage.
        await sleep(delay, undefined, { signal: this.stopController.signal }).catch(() => undefined);
        if (this.stopping || this.model) return;
      }
      try {
        await this.connectNow();
        return;
      } catch (error) {
        this.failures++;
        delay = this.backoffMs();
        this.options.log.warn({ err: this.said(error), retryInMs: Math.round(delay), failuresInARow: this.failures }, "pulse connection failed");
      }
    }
  }

  /** Capped exponential backoff with jitter, from the number of failures in a row. */
  private backoffMs(): number {
    const min = this.options.reconnectMinMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    return Math.min(max, min * 2 ** Math.max(0, this.failures - 1)) * (0.8 + 0.4 * Math.random());
  }

  /** The broker's or the network's words on one line, without URLs and without any secret. */
  private said(error: unknown): string {
    return scrubSecrets(oneLine(error), this.options.secrets ?? [this.options.password]);
  }

  private async open(): Promise<ChannelModel> {
    const { url, log } = this.options;
    const vhost = vhostOf(url);
    const model = await connectPulse(this.options);
    // From the moment the connection exists: a reset or a heartbeat timeout during the topology's
    // dozen round trips is an 'error' event, and one with no listener ends the process.
    model.on("error", (error: unknown) => log.warn({ err: this.said(error) }, "pulse connection error"));
    try {
      await this.prepareTopology(model);
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    const openedAt = performance.now();
    model.on("close", () => {
      if (this.model !== model) return;
      this.model = undefined;
      this.failures = performance.now() - openedAt >= STABLE_CONNECTION_MS ? 0 : this.failures + 1;
      this.options.onConnectedChange?.(false);
      if (this.stopping) return;
      // After a connection that did not stay up, the backoff goes on where it was.
      const delay = this.failures > 0 ? this.backoffMs() : 0;
      log.warn({ failuresInARow: this.failures, retryInMs: Math.round(delay) }, "pulse connection closed; reconnecting");
      this.options.onReconnect?.();
      this.keepConnected(delay);
    });
    this.model = model;
    this.options.onConnectedChange?.(true);
    log.info({ host: url.host, vhost, queues: this.options.queues.map((q) => q.name), reconnected: this.everConnected }, "connected to pulse");
    this.everConnected = true;
    return model;
  }

  /**
   * Checks the exchange passively (Pulse forbids declaring it) and declares and binds our queue,
   * noting when the queue had to be created again after it had been there.
   */
  private async prepareTopology(model: ChannelModel, queues: readonly QueueSpec[] = this.options.queues): Promise<void> {
    for (const spec of queues) await this.prepareQueue(model, spec);
  }

  private async prepareQueue(model: ChannelModel, { name: queue, bindings, exchange = this.options.exchange }: QueueSpec): Promise<void> {
    const { readOnly } = this.options;
    if (!readOnly) {
      // Only the broker's 404 says the queue is not there; a connection that died meanwhile (a
      // heartbeat timeout) says nothing about the queue.
      const existed = await this.withChannel(model, (ch) => ch.checkQueue(queue)).then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: unknown }).code === 404) return false;
          throw new PulseError(`cannot check queue ${queue}: ${this.said(error)}`, { cause: error });
        },
      );
      if (!existed) {
        // Gone after we had declared it (PulseGuardian deletes a queue at 8,000 messages), or not
        // there when this process started, which after a restart may be the same loss: either way
        // the pushes published meanwhile are only in the pushlog.
        this.recreated.add(queue);
        this.options.log.warn(
          { queue },
          this.declared.has(queue)
            ? "our queue was gone (deleted by PulseGuardian?); declaring it again and looking for lost pushes in the pushlog"
            : "our queue did not exist; declaring it and reading the last day of pushes from the pushlog",
        );
      }
    }
    if (!readOnly && queue === this.options.queues[0]?.name) await this.prepareRejected(model);
    // A failed passive check closes the channel, but nothing else is done on it after a failure.
    await this.withChannel(model, async (ch) => {
      await ch.checkExchange(exchange).catch((error: unknown) => {
        throw new PulseError(`exchange ${exchange} cannot be used: ${this.said(error)}`, { cause: error });
      });
      // Read-only, a missing queue fails the reads of that queue only (drain), not the connection:
      // the replication check goes on when only the Try queue is missing.
      if (readOnly) return;
      await ch.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
      for (const key of bindings) await ch.bindQueue(queue, exchange, key);
      this.declared.add(queue);
    });
  }

  /**
   * The rejected queue, bounded well under PulseGuardian's 8,000: past maxLength the broker drops the
   * oldest (x-overflow drop-head). One that exists is used as it is (checked passively): declaring it
   * again with other arguments would be a 406. One that cannot be had does not stop the connection:
   * set-aside messages are then logged whole and acked, and the operator is told (onRejectedUnavailable).
   */
  private async prepareRejected(model: ChannelModel): Promise<void> {
    const rejected = this.options.rejected;
    if (!rejected) return;
    try {
      const exists = await this.withChannel(model, (ch) => ch.checkQueue(rejected.queue)).then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: unknown }).code === 404) return false;
          throw error;
        },
      );
      await this.withChannel(model, async (ch) => {
        await ch.assertExchange(rejected.exchange, "fanout", { durable: true, autoDelete: false });
        if (!exists) {
          const args = { "x-max-length": rejected.maxLength, "x-overflow": "drop-head" };
          await ch.assertQueue(rejected.queue, { durable: true, autoDelete: false, exclusive: false, arguments: args });
        }
        await ch.bindQueue(rejected.queue, rejected.exchange, "");
      });
      this.setRejectedUsable(true);
    } catch (error) {
      // A connection that died is the caller's failure; only the broker's refusal degrades.
      if (typeof (error as { code?: unknown }).code !== "number") throw error;
      this.setRejectedUsable(false);
      this.options.log.error(
        { queue: rejected.queue, err: this.said(error) },
        "the rejected queue cannot be used: set-aside messages will be logged whole and acked, not kept",
      );
    }
  }

  private setRejectedUsable(usable: boolean): void {
    if (this.rejectedUsable === usable) return;
    this.rejectedUsable = usable;
    this.options.onRejectedUnavailable?.(!usable);
  }

  /** A throwaway channel; a channel error (404, 406) closes only it, and surfaces as the rejection. */
  private async withChannel<T>(model: ChannelModel, fn: (ch: Channel) => Promise<T>): Promise<T> {
    const ch = await model.createChannel();
    ch.on("error", () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Depth and consumers of any queue the account may read, by a passive declare. */
  async queueDepth(queue: string): Promise<{ messages: number; consumers: number }> {
    const model = await this.connection();
    return this.withChannel(model, async (ch) => {
      const reply = await ch.checkQueue(queue);
      return { messages: reply.messageCount, consumers: reply.consumerCount };
    });
  }

  /**
   * Takes every message waiting on the queue (up to `maxMessages`) on a fresh channel. The caller
   * must end the session with `settle` or `abandon`.
   */
  async drain(options: DrainOptions): Promise<PulseQueueSession> {
    const spec = options.queue === undefined ? this.options.queues[0] : this.options.queues.find((q) => q.name === options.queue);
    if (!spec) throw new PulseError(`${options.queue ?? "(none)"} is not one of the service's queues`);
    const queue = spec.name;
    // A connection opened for this read (--once, or the first check after an outage) has just had its
    // topology prepared by open(); asserting it again would be the same dozen round trips.
    const openedForThisRead = this.model === undefined;
    // A stopped check (Ctrl-C in --once) does not wait out a connection attempt that may take the whole connect timeout.
    const model = await untilAborted(this.connection(), options.signal);
    if (!this.options.readOnly && !openedForThisRead) {
      // Re-asserting is idempotent and rebuilds a queue deleted under us (PulseGuardian does that).
      await this.prepareTopology(model, [spec]);
    }
    const ch = await model.createChannel();
    const session = new PulseQueueSession(ch, queue, this.options.log, (error) => this.said(error));
    session.queueRecreated = this.recreated.delete(queue);
    ch.on("error", (error: unknown) => session.fail(error));
    ch.on("close", () => session.fail(new PulseError("channel closed")));
    try {
      const { messageCount, consumerCount } = await ch.checkQueue(queue);
      session.depthAtStart = { messages: messageCount, consumers: consumerCount };
      if (messageCount > 0) {
        await ch.prefetch(Math.min(options.maxMessages, 65_535));
        await session.collect(Math.min(messageCount, options.maxMessages), options, () => this.options.onConsumerCancel?.());
      }
      // Our consumer stays registered while we hold its deliveries, so that another instance sees
      // it; anyone else counted is another reader, holding messages this check cannot see.
      const after = await ch.checkQueue(queue);
      session.otherConsumers = Math.max(consumerCount, after.consumerCount - (session.consuming ? 1 : 0));
    } catch (error) {
      await session.abandon();
      if (session.queueRecreated) this.recreated.add(queue);
      if (this.options.readOnly && (error as { code?: unknown }).code === 404) throw new PulseError(missingQueueMessage(queue), { cause: error });
      throw new PulseError(`cannot read queue ${queue}: ${this.said(error)}`, { cause: error });
    }
    return session;
  }

  /**
   * Copies set-aside messages, body byte for byte, to the rejected queue and waits for the broker's
   * confirms; throws when it did not confirm them all (the caller then acks none of them). Returns
   * how many older copies the bound pushed out, read off the depth before publishing.
   */
  async copyAside(copies: readonly SetAsideCopy[], nowMs: number): Promise<{ dropped: number }> {
    const rejected = this.options.rejected;
    if (!rejected) throw new PulseError("no rejected queue is configured");
    if (copies.length === 0) return { dropped: 0 };
    if (!this.rejectedUsable) {
      // Kept where an operator can still read them: the log, a bounded part of each body.
      for (const { delivery, reason } of copies) {
        this.options.log.error(
          { reason, routingKey: delivery.routingKey.slice(0, 200), bytes: delivery.body.length, body: delivery.body.subarray(0, 64 * 1024).toString("utf8") },
          "set aside, and not kept: the rejected queue cannot be used",
        );
      }
      return { dropped: 0 };
    }
    const model = await this.connection();
    const ch = await model.createConfirmChannel();
    ch.on("error", () => undefined);
    try {
      const { messageCount } = await ch.checkQueue(rejected.queue);
      for (const { delivery, reason: why } of copies) {
        ch.publish(rejected.exchange, "", delivery.body, {
          persistent: true,
          ...(delivery.contentType ? { contentType: delivery.contentType } : {}),
          timestamp: Math.floor(nowMs / 1000),
          headers: { "x-phabmon-reason": why, "x-phabmon-routing-key": delivery.routingKey, "x-phabmon-exchange": delivery.exchange },
        });
      }
      await ch.waitForConfirms();
      return { dropped: Math.max(0, messageCount + copies.length - rejected.maxLength) };
    } catch (error) {
      throw new PulseError(`could not copy ${copies.length} set-aside messages to ${rejected.queue}: ${this.said(error)}`, { cause: error });
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Reads what the rejected queue keeps without taking anything off it (closing the channel hands it all back). */
  async peekRejected(max = 1000): Promise<KeptMessage[] | undefined> {
    const rejected = this.options.rejected;
    if (!rejected) return undefined;
    const model = await this.connection();
    const ch = await model.createChannel();
    ch.on("error", () => undefined);
    try {
      const depth = await ch.checkQueue(rejected.queue).catch((error: unknown) => {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      });
      if (depth === undefined) return undefined;
      const kept: KeptMessage[] = [];
      const want = Math.min(depth.messageCount, max);
      for (let i = 0; i < want; i++) {
        const msg = await ch.get(rejected.queue, { noAck: false });
        if (msg === false) break;
        const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
        const text = (value: unknown, fallback: string) => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : fallback);
        kept.push({
          reason: text(headers["x-phabmon-reason"], "unknown"),
          routingKey: text(headers["x-phabmon-routing-key"], msg.fields.routingKey),
          at: typeof msg.properties.timestamp === "number" ? msg.properties.timestamp * 1000 : undefined,
          body: msg.content,
        });
      }
      return kept;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    const model = this.model;
    this.model = undefined;
    if (model) {
      this.options.onConnectedChange?.(false);
      await model.close().catch(() => undefined);
    }
  }
}

/** The Pulse adapter's QueueSession (src/run/run-queue-check.ts): one read of a queue on its own channel. */
export class PulseQueueSession {
  readonly deliveries: Delivery[] = [];
  depthAtStart = { messages: 0, consumers: 0 };
  private readonly messages: ConsumeMessage[] = [];
  private readonly channel: Channel;
  private readonly queue: string;
  private readonly log: Logger;
  private failure: unknown;
  private closed = false;
  /** Set when the broker cancelled our consumer (the queue was deleted). */
  cancelled = false;
  /** Consumers other than this check seen on the queue while it read it. */
  otherConsumers = 0;
  /** The queue had been deleted and was declared again before this check: messages may be lost. */
  queueRecreated = false;
  private consumerTag: string | undefined;
  private collecting = false;

  get consuming(): boolean {
    return this.consumerTag !== undefined;
  }

  private readonly said: (error: unknown) => string;

  constructor(channel: Channel, queue: string, log: Logger, said: (error: unknown) => string) {
    this.channel = channel;
    this.queue = queue;
    this.log = log;
    this.said = said;
  }

  fail(error: unknown): void {
    this.failure ??= error;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async collect(expected: number, options: DrainOptions, onCancel: () => void): Promise<void> {
    const idleMs = options.idleMs ?? 1000;
    this.collecting = true;
    let consuming: Promise<{ consumerTag: string }> | undefined;
    let finish = () => undefined as void;
    await new Promise<void>((resolve, reject) => {
      // One timer that looks at when the last message came, not one timer per message: re-arming a
      // timer for each of 5,000 deliveries was about 20 ms of a drain's profile (libuv clock reads, timer list inserts).
      let lastArrival = performance.now();
      const whenIdle = () => {
        const quiet = performance.now() - lastArrival;
        if (quiet >= idleMs) resolve();
        else timer = setTimeout(whenIdle, idleMs - quiet);
      };
      let timer = setTimeout(whenIdle, idleMs);
      finish = () => {
        clearTimeout(timer);
        resolve();
      };
      // A signal that fired before the check got here fires no event.
      if (options.signal?.aborted) finish();
      options.signal?.addEventListener("abort", finish, { once: true });
      consuming = this.channel.consume(
        this.queue,
        (msg) => {
          if (msg === null) {
            this.cancelled = true;
            onCancel();
            finish();
            return;
          }
          // What arrives after the collection ended stays unacked and goes back at settle.
          if (!this.collecting) return;
          this.messages.push(msg);
          const delivery: Delivery = {
            index: this.deliveries.length,
            routingKey: msg.fields.routingKey,
            exchange: msg.fields.exchange,
            body: msg.content,
            contentType: typeof msg.properties.contentType === "string" ? msg.properties.contentType : undefined,
            redelivered: msg.fields.redelivered,
          };
          this.deliveries.push(delivery);
          options.onDelivery?.(delivery);
          if (this.deliveries.length >= expected) return finish();
          lastArrival = performance.now();
        },
        { noAck: false },
      );
      consuming.catch(reject);
    });
    this.collecting = false;
    // The signal lives as long as the service: a listener left on it would keep this session, and
    // every message it held, alive after the check (seen as RSS growing over 1,000 checks).
    options.signal?.removeEventListener("abort", finish);
    const { consumerTag } = await (consuming as Promise<{ consumerTag: string }>);
    if (!this.cancelled) this.consumerTag = consumerTag;
  }

  /**
   * Acks the given deliveries, hands every other one back to the queue at its place, and closes the
   * channel. False when the channel had died: the broker has then requeued everything itself, so
   * nothing is lost, but nothing is acked either.
   */
  async settle(ack: readonly number[]): Promise<boolean> {
    if (this.closed) return false;
    try {
      if (this.failed) throw this.failure;
      // Cancelled first, so that what nackAll hands back is not delivered to us again.
      if (this.consumerTag !== undefined) await this.channel.cancel(this.consumerTag);
      this.consumerTag = undefined;
      // On a channel of its own the deliveries' tags run 1, 2, 3… in the order of `messages`, so the
      // longest run from the first one goes as one ack with `multiple` set (AMQP 0-9-1 basic.ack), and
      // only what follows a gap is acked one by one: a drain of 5,000 sends one frame, not 5,000.
      const sorted = [...new Set(ack)].sort((a, b) => a - b);
      let prefix = 0;
      while (prefix < sorted.length && sorted[prefix] === prefix) prefix++;
      const last = this.messages[prefix - 1];
      if (last) this.channel.ack(last, true);
      for (const index of sorted.slice(prefix)) {
        const msg = this.messages[index];
        if (msg) this.channel.ack(msg);
      }
      this.channel.nackAll(true);
      // The broker answers close only after it has processed every ack sent before it.
      this.closed = true;
      await this.channel.close();
      return true;
    } catch (error) {
      this.log.warn({ err: this.said(error) }, "could not settle the check's messages; the broker returns them to the queue");
      return false;
    } finally {
      await this.close();
    }
  }

  /** Acks nothing: closing the channel returns every delivery to the queue, in order. */
  async abandon(): Promise<void> {
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.channel.close().catch(() => undefined);
  }
}
