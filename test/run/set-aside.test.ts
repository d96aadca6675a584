// accountMessages over plain values, and keepSetAside with fakes of its port: nothing set aside is
// acked unless its copy was confirmed.
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { accountMessages, keepSetAside } from "../../src/run/message-accounting.ts";
import { planCheck } from "../../src/hgpush/check-plan.ts";
import type { DecodedMessage } from "../../src/hgpush/hgpush-message.ts";
import { createRegistry, messageMetrics } from "../../src/app/metrics.ts";
import type { Delivery } from "../../src/pulse/pulse.ts";

const delivery = (index: number): Delivery => ({
  index,
  routingKey: "r",
  exchange: "e",
  body: Buffer.from("{}"),
  contentType: "application/json",
  redelivered: false,
});
const metrics = messageMetrics(createRegistry({ version: "t", commit: "t" }), []);
const log = pino({ level: "silent" });

describe("accountMessages", () => {
  it("counts each monitored repository's first deliveries (not redeliveries), and says which got one", async () => {
    const registry = createRegistry({ version: "t", commit: "t" });
    const counted = messageMetrics(registry, []);
    const push = (repository: string, pushId: number): DecodedMessage => ({
      kind: "pushes",
      repository,
      pushes: [{ repository, pushId, pushTime: 1, user: "u" }],
    });
    const decoded: DecodedMessage[] = [
      push("integration/autoland", 1),
      push("integration/autoland", 2),
      push("integration/autoland", 3),
      push("mozilla-central", 7),
      push("try", 9),
      { kind: "rejected", reason: "schema", detail: "x" },
      push("releases/mozilla-beta", 4),
    ];
    const deliveries = decoded.map((_, i) => ({ ...delivery(i), redelivered: i === 2 || i === 6 }));
    const monitored = new Set(["integration/autoland", "mozilla-central", "releases/mozilla-beta"]);
    const plan = planCheck(
      decoded.map((d, index) => ({ index, decoded: d })),
      monitored,
    );
    const fresh = accountMessages(deliveries, decoded, plan, { monitored, metrics: counted, log, atMs: 1_700_000_000_000 });
    expect([...fresh].sort()).toEqual(["integration/autoland", "mozilla-central"]);
    const received = (await counted.messagesReceived.get()).values.map((v) => [v.labels.repository, v.value]);
    expect(received.sort()).toEqual([
      ["integration/autoland", 2],
      ["mozilla-central", 1],
    ]);
    const last = (await counted.lastPushReceived.get()).values.map((v) => [v.labels.repository, v.value]);
    expect(last.sort()).toEqual([
      ["integration/autoland", 1_700_000_000],
      ["mozilla-central", 1_700_000_000],
    ]);
  });
});

describe("keepSetAside", () => {
  it("acks as planned once the broker confirmed every copy, and counts the drops", async () => {
    const copies = [{ index: 1, delivery: delivery(1), reason: "schema" }];
    const ack = await keepSetAside(copies, [0, 1, 2], { copyAside: () => Promise.resolve({ dropped: 3 }), metrics, log, nowMs: 0 });
    expect(ack).toEqual([0, 1, 2]);
    expect((await metrics.rejectedDropped.get()).values[0]?.value).toBe(3);
  });

  it("hands the set-aside messages back when their copy was not confirmed, and acks the rest", async () => {
    const copies = [1, 3].map((i) => ({ index: i, delivery: delivery(i), reason: "stripped" }));
    const ack = await keepSetAside(copies, [0, 1, 2, 3], { copyAside: () => Promise.reject(new Error("NOT_FOUND - no exchange")), metrics, log, nowMs: 0 });
    expect(ack).toEqual([0, 2]);
  });
});
