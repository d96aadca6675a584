// hgpushReader over plain deliveries: what a read of an hgpush queue carries for the runner to count
// (first deliveries per monitored repository, not redeliveries), to set aside and to ack.
import { describe, expect, it } from "vitest";
import { hgpushReader } from "../../src/hgpush/read-plan.ts";
import type { Delivery } from "../../src/pulse/pulse.ts";
import { HG_PLACEHOLDER, changegroupV2 } from "../support/hgpush.ts";

const delivery = (index: number, body: unknown, redelivered = false): Delivery => ({
  index,
  routingKey: typeof body === "string" ? "r" : (body as { _meta: { routing_key: string } })._meta.routing_key,
  exchange: "exchange/hgpushes/v2",
  body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  contentType: "application/json",
  redelivered,
});
const push = (repository: string, pushId: number) => changegroupV2(HG_PLACEHOLDER, repository, [{ pushId, time: 1_700_000_000 + pushId }]);

describe("hgpushReader", () => {
  it("counts each monitored repository's first deliveries (not redeliveries), says which got one, and sets aside what it cannot read or is not its", () => {
    const monitored = new Set(["integration/autoland", "mozilla-central", "releases/mozilla-beta"]);
    const deliveries = [
      delivery(0, push("integration/autoland", 1)),
      delivery(1, push("integration/autoland", 2)),
      delivery(2, push("integration/autoland", 3), true),
      delivery(3, push("mozilla-central", 7)),
      delivery(4, push("try", 9)),
      delivery(5, "not json"),
      delivery(6, push("releases/mozilla-beta", 4), true),
    ];
    const read = hgpushReader(HG_PLACEHOLDER, monitored).plan(deliveries);
    expect([...read.received].sort()).toEqual([
      ["integration/autoland", 2],
      ["mozilla-central", 1],
    ]);
    expect([...read.plan.receivedNew].sort()).toEqual(["integration/autoland", "mozilla-central"]);
    // Only monitored repositories are bound: a push to another one is foreign, and kept for an operator.
    expect(read.rejected.map((r) => [r.index, r.reason])).toEqual([
      [4, "unmonitored"],
      [5, "not_json"],
    ]);
    expect(read.done).toEqual([]);
  });

  it("decodes a delivery once, whether as it arrives or when planned", () => {
    const reader = hgpushReader(HG_PLACEHOLDER, new Set(["integration/autoland"]));
    const d = delivery(0, push("integration/autoland", 1));
    reader.onDelivery(d);
    // The body is gone after the first decode: the plan can only have it from the cache.
    d.body.fill(0x20);
    expect(
      reader
        .plan([d])
        .plan.pushesByRepository.get("integration/autoland")
        ?.map((p) => p.pushId),
    ).toEqual([1]);
  });
});
