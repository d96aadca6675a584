// PulseQueueSession.settle against the tests' own RabbitMQ: the run of acks from the first delivery goes
// as one `multiple` ack, the rest one by one, and what is not acked goes back in its place.
import { afterEach, expect, it } from "vitest";
import { PulseClient } from "../src/pulse/pulse.ts";
import { AMQP_URL, openTestBroker, type TestBroker } from "./support/broker.ts";
import { createTestLog } from "./support/test-log.ts";

let broker: TestBroker | undefined;
let client: PulseClient | undefined;
afterEach(async () => {
  await client?.stop();
  await broker?.close();
  client = broker = undefined;
});

async function drainOf(messages: number): Promise<{ broker: TestBroker; client: PulseClient }> {
  broker = await openTestBroker();
  await broker.prepareQueue(["repo"]);
  await broker.publishMany(Array.from({ length: messages }, (_, i) => ({ routingKey: "repo", body: { n: i } })));
  const url = new URL(AMQP_URL);
  client = new PulseClient({
    url,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    exchange: broker.exchange,
    queues: [{ name: broker.queue, bindings: ["repo"] }],
    readOnly: true,
    log: createTestLog().log,
  });
  return { broker, client };
}

const bodies = async (b: TestBroker) => (await b.peek()).map((body) => (JSON.parse(body) as { n: number }).n);

it.each([
  { name: "every delivery", ack: [0, 1, 2, 3, 4, 5], left: [] },
  { name: "a run from the first, then a gap", ack: [0, 1, 3, 5], left: [2, 4] },
  { name: "no run from the first", ack: [1, 2, 5], left: [0, 3, 4] },
  { name: "unordered and repeated indices", ack: [3, 0, 1, 1, 0], left: [2, 4, 5] },
  { name: "nothing", ack: [], left: [0, 1, 2, 3, 4, 5] },
])("settle acks $name and hands the rest back in order", async ({ ack, left }) => {
  const { broker: b, client: c } = await drainOf(6);
  const session = await c.drain({ maxMessages: 100, idleMs: 200 });
  expect(session.deliveries).toHaveLength(6);
  expect(await session.settle(ack)).toBe(true);
  expect(await bodies(b)).toEqual(left);
});

it("a second drain of the same client acks only its own deliveries (tags start again on the new channel)", async () => {
  const { broker: b, client: c } = await drainOf(4);
  const first = await c.drain({ maxMessages: 2, idleMs: 200 });
  expect(first.deliveries).toHaveLength(2);
  // The first delivery only: the second goes back, to the head of the queue.
  expect(await first.settle([0])).toBe(true);
  const second = await c.drain({ maxMessages: 100, idleMs: 200 });
  expect(second.deliveries.map((d) => (JSON.parse(d.body.toString()) as { n: number }).n)).toEqual([1, 2, 3]);
  expect(await second.settle([0, 1])).toBe(true);
  expect(await bodies(b)).toEqual([3]);
});
