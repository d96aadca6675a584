// Rejected is kept, not dropped: every message set aside is copied, body byte for byte, to the bounded
// queue `<queue>/rejected` with its reason and routing key in the contract's headers, confirmed by the
// broker before the original is acked; `display-lag --rejected` lists it without taking it.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { changegroupV2 } from "./support/hgpush.ts";
import { REJECTED_MAX_LENGTH } from "../src/app/build-app.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("the rejected queue", () => {
  it("keeps each set-aside message with its reason, acks it off ours, and display-lag --rejected lists it, taking nothing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 600;
    const garbage = Buffer.from('{"payload": {"type": "changegroup.1", "data": {"nope": 1}}}  ');
    await h.broker.publish(AUTOLAND, null, { raw: garbage });
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t + 1, { mirrored: false });
    h.hg.strip(AUTOLAND, 2);
    await h.push(AUTOLAND, 3, t + 2);

    const result = await h.run(["--once"]);
    expect(result.code).toBe(0);
    expect(await h.broker.depth()).toBe(0);

    const rejected = `${h.broker.queue}/rejected`;
    const kept = await h.broker.peekWithHeaders(rejected);
    expect(kept.map((k) => [k.headers["x-phabmon-reason"], k.headers["x-phabmon-routing-key"]])).toEqual([
      ["schema", AUTOLAND],
      ["stripped", AUTOLAND],
    ]);
    expect(kept[0]?.body).toBe(garbage.toString("utf8"));
    expect(JSON.parse(kept[1]?.body ?? "{}")).toEqual(changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 2, time: t + 1 }]));

    const listed = await h.run(["--rejected"], {}, "display-lag");
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0]).toBe(`${rejected}: 2 messages kept`);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z schema ${AUTOLAND} no push id \\(\\d+ bytes\\)$`));
    expect(lines[2]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z stripped ${AUTOLAND} push 2 \\(\\d+ bytes\\)$`));
    expect(await h.broker.depth(rejected)).toBe(2);
  });

  it("is bounded, oldest dropped first, and counts the drops", { timeout: 60_000 }, async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const extra = 5;
    await h.broker.publishMany(
      Array.from({ length: REJECTED_MAX_LENGTH + extra }, (_, i) => ({ routingKey: AUTOLAND, body: { payload: { type: "changegroup.1", data: { n: i } } } })),
    );
    const svc = await h.start([]);
    await svc.waitForLog("check failed");
    const rejected = `${h.broker.queue}/rejected`;
    expect(await h.broker.depth(rejected)).toBe(REJECTED_MAX_LENGTH);
    expect(await h.broker.depth()).toBe(0);
    const kept = await h.broker.peekWithHeaders(rejected);
    expect(JSON.parse(kept[0]?.body ?? "{}")).toEqual({ payload: { type: "changegroup.1", data: { n: extra } } });
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toMatch(/^phabmon_rejected_dropped_total 5$/m);
    svc.signal();
    await svc.finished;
  });

  it("display-lag --rejected before anything was set aside says so and exits 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const listed = await h.run(["--rejected"], {}, "display-lag");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe(`${h.broker.queue}/rejected: does not exist yet (nothing has been set aside)\n`);
  });
});
