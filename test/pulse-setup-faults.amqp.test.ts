// The network and the broker cannot crash the Pulse edge while it sets a connection up: a reset during
// the topology's round trips is one more reconnect; a broker that accepts and then drops every
// connection is retried with a growing delay; a rejected queue declared with other arguments, or one
// that cannot be had at all, does not stop the connection from opening. Against the tests' own
// RabbitMQ, through a TCP proxy of the test's own.
import { afterEach, expect, it } from "vitest";
import { PulseClient, type PulseOptions } from "../src/pulse/pulse.ts";
import { AMQP_URL, openTestBroker, type TestBroker } from "./support/broker.ts";
import { hasAmqpMethod, startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { createTestLog, type TestLog } from "./support/test-log.ts";

let broker: TestBroker | undefined;
let proxy: TcpProxy | undefined;
let client: PulseClient | undefined;
afterEach(async () => {
  await client?.stop();
  await proxy?.close();
  await broker?.close();
  client = proxy = broker = undefined;
});

/** A client of the test's broker through a proxy, writing read and write (not read-only), as the service's is. */
async function clientThroughProxy(log: TestLog, options: Partial<PulseOptions> = {}): Promise<{ client: PulseClient; connected: number[] }> {
  broker = await openTestBroker();
  const target = new URL(AMQP_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
  const connected: number[] = [];
  client = new PulseClient({
    url: new URL(`amqp://127.0.0.1:${proxy.port}/`),
    username: decodeURIComponent(target.username),
    password: decodeURIComponent(target.password),
    exchange: broker.exchange,
    queues: [{ name: broker.queue, bindings: ["repo"] }],
    readOnly: false,
    log: log.log,
    rejected: { exchange: `exchange/guest/${broker.queueName}/rejected`, queue: `${broker.queue}/rejected`, maxLength: 1000 },
    onConnectedChange: (up) => up && connected.push(performance.now()),
    ...options,
  });
  return { client, connected };
}

const until = async (condition: () => boolean, what: string, ms = 20_000) => {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

it("a reset at the first channel open of the set-up is one more reconnect, not a crash", async () => {
  const log = createTestLog();
  const { client: c, connected } = await clientThroughProxy(log);
  const p = proxy as TcpProxy;
  // The first connection is reset when it opens its first channel (the topology's first round trip).
  p.fault = { resetWhen: (chunk) => hasAmqpMethod(chunk, 20, 10) };
  const started = performance.now();
  c.keepConnected();
  await until(() => p.connections >= 1 && log.lines.some((l) => l.msg === "pulse connection failed"), "the first attempt fails");
  p.fault = undefined;
  await until(() => connected.length === 1, "connected on a later attempt");
  expect(c.connected).toBe(true);
  expect(p.connections).toBe(2);
  console.log(`reset during set-up: connected ${((connected[0] as number) - started) / 1000} s after the first attempt (reconnect floor 1 s)`);
});

it("a broker that accepts and drops every connection is retried with a growing delay, not at once", async () => {
  const log = createTestLog();
  const { client: c, connected } = await clientThroughProxy(log, {
    reconnectMinMs: 200,
    reconnectMaxMs: 5000,
    // Each connection is dropped the moment it is up.
    onConnectedChange: (up) => {
      if (!up) return;
      connected.push(performance.now());
      if (connected.length <= 5) setImmediate(() => (proxy as TcpProxy).resetAll());
    },
  });
  c.keepConnected();
  await until(() => connected.length >= 6, "six connections", 30_000);
  const gaps = connected.slice(1).map((at, i) => at - (connected[i] as number));
  // 200, 400, 800, 1600, 3200 ms (±20 % jitter) after each drop; at once, they would be a few ms.
  gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(0.8 * 200 * 2 ** i));
});

it("uses a rejected queue declared with other arguments as it is (no 406), and connects", async () => {
  const log = createTestLog();
  const { client: c, connected } = await clientThroughProxy(log);
  const setup = await (broker as TestBroker).model.createChannel();
  await setup.assertQueue(`${(broker as TestBroker).queue}/rejected`, { durable: true, arguments: { "x-max-length": 5 } });
  await setup.close();
  c.keepConnected();
  await until(() => connected.length === 1, "connected");
  log.assertNoUnexpectedErrors();
});

it("a rejected queue that cannot be had degrades to logging set-aside messages whole, and the connection opens", async () => {
  const log = createTestLog();
  const unavailable: boolean[] = [];
  const { client: c, connected } = await clientThroughProxy(log, { onRejectedUnavailable: (u) => unavailable.push(u) });
  // The rejected exchange taken by another type: declaring it is a 406 on every connection.
  const setup = await (broker as TestBroker).model.createChannel();
  await setup.assertExchange(`exchange/guest/${(broker as TestBroker).queueName}/rejected`, "direct", { durable: true });
  await setup.close();
  c.keepConnected();
  await until(() => connected.length === 1, "connected");
  expect(unavailable).toEqual([true]);
  const body = Buffer.from('{"not": "a push"}');
  const delivery = { index: 0, routingKey: "repo", exchange: "x", body, contentType: "application/json", redelivered: false };
  expect(await c.copyAside([{ delivery, reason: "schema" }], Date.now())).toEqual({ dropped: 0 });
  expect(log.lines.find((l) => l.msg === "set aside, and not kept: the rejected queue cannot be used")).toMatchObject({
    reason: "schema",
    body: '{"not": "a push"}',
  });
  log.assertNoUnexpectedErrors([/rejected queue cannot be used/, /set aside, and not kept/]);
});
