// keepSetAside with fakes of its port: nothing set aside is acked unless its copy was confirmed.
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { keepSetAside } from "../../src/run/set-aside.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { messageMetrics } from "../../src/run/message-metrics.ts";
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
