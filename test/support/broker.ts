// The real RabbitMQ the AMQP tests talk to, and what they need around it: a fresh topic exchange
// standing in for exchange/hgpushes/v2, a confirmed publisher, and a read of a queue that puts
// everything back.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { connect, type ChannelModel } from "amqplib";

export const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/**
 * rabbitmqctl against the tests' own node (scripts/test-broker), and never another: without
 * TEST_RABBITMQ_NODE it refuses, so no test can stop, reconfigure or add users to a broker it did
 * not start.
 */
export function brokerctl(...args: string[]): void {
  const node = process.env.TEST_RABBITMQ_NODE;
  const home = process.env.TEST_RABBITMQ_HOME;
  if (!node || !home) throw new Error("brokerctl: TEST_RABBITMQ_NODE is not set; run the tests through npm test, which starts their own RabbitMQ node");
  execFileSync(existsSync("/usr/lib/rabbitmq/bin/rabbitmqctl") ? "/usr/lib/rabbitmq/bin/rabbitmqctl" : "rabbitmqctl", ["-q", "-n", node, ...args], {
    stdio: "ignore",
    timeout: 60_000,
    env: { ...process.env, HOME: home },
  });
}

export interface TestBroker {
  model: ChannelModel;
  /** Unique per test: `exchange/test-<id>/hgpushes`. */
  exchange: string;
  /** Queue name the service is given (PULSE_QUEUE_NAME). */
  queueName: string;
  /** The full queue name, `queue/guest/<queueName>`. */
  queue: string;
  publish(routingKey: string, body: unknown, options?: { contentType?: string; raw?: Buffer }): Promise<void>;
  /** Many messages, one confirm wait at the end. */
  publishMany(messages: ReadonlyArray<{ routingKey: string; body: unknown }>): Promise<void>;
  /** The service's Try queue, `<queue>/try`. */
  tryQueue: string;
  /** Unique per test: `exchange/test-<id>/landopushes`, standing in for Lando's exchange/landoprod/pushes. */
  landoExchange: string;
  /** The service's queue of Lando's pushes, `<queue>/git`. */
  gitQueue: string;
  /** A message on the Lando stand-in exchange (routing key `gitpushes.firefox` unless given). */
  publishLando(body: unknown, routingKey?: string): Promise<void>;
  /** Declares and binds the service's queue (or another), as the service would, so messages published before it starts are kept. */
  prepareQueue(routingKeys: readonly string[], queue?: string, onExchange?: string): Promise<void>;
  /** Bodies of every message in the queue, in order, leaving the queue exactly as it was. */
  peek(): Promise<string[]>;
  /** Every message of a queue with its headers, handed back in place. */
  peekWithHeaders(name: string): Promise<Array<{ body: string; headers: Record<string, unknown>; timestamp: number | undefined }>>;
  depth(queue?: string): Promise<number>;
  /** A new connection for the test's own use, after the broker was restarted under it. */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

export async function openTestBroker(): Promise<TestBroker> {
  let model = await connect(AMQP_URL);
  model.on("error", () => undefined);
  const id = randomBytes(4).toString("hex");
  const exchange = `exchange/test-${id}/hgpushes`;
  const landoExchange = `exchange/test-${id}/landopushes`;
  const queueName = `monitor-${id}`;
  const queue = `queue/guest/${queueName}`;
  const setup = await model.createChannel();
  // Durable, as Pulse's exchanges are, so that it outlives a broker restart.
  await setup.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
  await setup.assertExchange(landoExchange, "topic", { durable: true, autoDelete: false });
  await setup.close();
  let publisher = await model.createConfirmChannel();

  async function harnessPeek(name: string): Promise<Array<{ body: string; headers: Record<string, unknown>; timestamp: number | undefined }>> {
    const ch = await model.createChannel();
    const { messageCount } = await ch.checkQueue(name);
    const kept: Array<{ body: string; headers: Record<string, unknown>; timestamp: number | undefined }> = [];
    if (messageCount > 0) {
      await ch.prefetch(0);
      await new Promise<void>((resolve) => {
        void ch.consume(name, (msg) => {
          if (!msg) return;
          kept.push({ body: msg.content.toString("utf8"), headers: msg.properties.headers ?? {}, timestamp: msg.properties.timestamp as number | undefined });
          if (kept.length === messageCount) resolve();
        });
      });
    }
    // Closing the channel hands every delivery back to its place.
    await ch.close();
    return kept;
  }

  return {
    get model() {
      return model;
    },
    exchange,
    queueName,
    queue,
    tryQueue: `${queue}/try`,
    landoExchange,
    gitQueue: `${queue}/git`,
    async publishLando(body, routingKey = "gitpushes.firefox") {
      publisher.publish(landoExchange, routingKey, Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), {
        contentType: "application/json",
        persistent: true,
      });
      await publisher.waitForConfirms();
    },
    async publish(routingKey, body, options = {}) {
      const content = options.raw ?? Buffer.from(JSON.stringify(body));
      publisher.publish(exchange, routingKey, content, {
        contentType: options.contentType ?? "application/json",
        contentEncoding: "utf-8",
        persistent: true,
      });
      await publisher.waitForConfirms();
    },
    async publishMany(messages) {
      for (const { routingKey, body } of messages) {
        publisher.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { contentType: "application/json", persistent: true });
      }
      await publisher.waitForConfirms();
    },
    async prepareQueue(routingKeys, name = queue, onExchange = exchange) {
      const ch = await model.createChannel();
      await ch.assertQueue(name, { durable: true, autoDelete: false, exclusive: false });
      for (const key of routingKeys) await ch.bindQueue(name, onExchange, key);
      await ch.close();
    },
    async peek() {
      return (await harnessPeek(queue)).map((m) => m.body);
    },
    peekWithHeaders: (name) => harnessPeek(name),
    async depth(name: string = queue) {
      const ch = await model.createChannel();
      const { messageCount } = await ch.checkQueue(name);
      await ch.close();
      return messageCount;
    },
    async reconnect() {
      await model.close().catch(() => undefined);
      model = await connect(AMQP_URL);
      model.on("error", () => undefined);
      publisher = await model.createConfirmChannel();
    },
    async close() {
      const ch = await model.createChannel();
      await ch.deleteQueue(queue).catch(() => undefined);
      await ch.deleteQueue(`${queue}/try`).catch(() => undefined);
      await ch.deleteQueue(`${queue}/git`).catch(() => undefined);
      await ch.deleteExchange(landoExchange).catch(() => undefined);
      await ch.deleteQueue(`${queue}/rejected`).catch(() => undefined);
      await ch.deleteExchange(`exchange/guest/${queueName}/rejected`).catch(() => undefined);
      await ch.deleteExchange(exchange).catch(() => undefined);
      await ch.close().catch(() => undefined);
      await model.close();
    },
  };
}
