// Pushes json-pushes does not list, and the push time, as hg.mozilla.org answers: only replicated
// pushes are listed and `lastpushid` is the last replicated id, a stripped push vanishes though its
// id is at or below `lastpushid` (version-control-tools hgext/pushlog/feed.py, tests
// test-empty-pushes.t), and the pushlog's `date` is the push time (a message's `time` was ten times
// too large from 2016 to 2018, VCT aa0c72a9).
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { changegroupV2 } from "./support/hgpush.ts";
import { scrapeSample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

function lagOf(stdout: string): string {
  return /replication lag \(seconds\): (\S+)/.exec(stdout)?.[1] ?? "none";
}

describe("pushes json-pushes does not list", () => {
  it("a stripped push (id at or below lastpushid, absent) is set aside at once; the pushes behind it verify", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 3600;
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t + 10, { mirrored: false });
    await h.push(AUTOLAND, 3, t + 20);
    h.hg.strip(AUTOLAND, 2);

    const svc = await h.start([], { CHECK_SCHEDULE: "0 0 1 1 *" });
    const done = await svc.waitForLog("check done");
    expect(done).toMatchObject({ verified: 2, pending: 0, lagSeconds: 0 });
    expect(await h.broker.depth()).toBe(0);
    const warned = svc.logs.filter((l) => typeof l.msg === "string" && l.msg.includes("(stripped): set aside"));
    expect(warned.map((l) => [l.pushId, l.reason, l.level])).toEqual([[2, "stripped", 40]]);
    expect(await scrapeSample(svc.url, 'phabmon_messages_rejected_total{reason="stripped"}')).toBe("1");
    svc.signal();
    await svc.finished;
  });

  it("a push announced before json-pushes lists it is waited for, and verified once it is listed", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 7, t, { replicated: false });

    const first = await h.run(["--once"]);
    expect(first.code).toBe(0);
    expect(Number(lagOf(first.stdout))).toBeGreaterThanOrEqual(600);
    expect(await h.broker.depth()).toBe(1);

    h.hg.replicate(AUTOLAND, 7);
    const second = await h.run(["--once"]);
    expect(lagOf(second.stdout)).toBe("0");
    expect(await h.broker.depth()).toBe(0);
  });

  it("a push id json-pushes never lists is given up after 3 checks, counted, and the lag moves on to the next push", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 3600;
    await h.push(AUTOLAND, 1, t);
    // A message for a push id hg.mozilla.org has not (and will never have) replicated.
    await h.broker.publish(AUTOLAND, changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 7777, time: t + 5 }]));

    const svc = await h.start([], { CHECK_SCHEDULE: "* * * * * *" });
    const first = await svc.waitForLog("check done");
    expect(first).toMatchObject({ verified: 1, pending: 1, stoppedAt: { pushId: 7777, reason: { kind: "not_in_pushlog" } } });
    const second = await svc.waitForLog("check done", 2);
    expect(second).toMatchObject({ pending: 1 });
    const third = await svc.waitForLog("check done", 3);
    expect(third).toMatchObject({ pending: 0, lagSeconds: 0 });
    expect(await h.broker.depth()).toBe(0);
    const warned = svc.logs.filter((l) => l.reason === "not_replicated" && l.level === 40);
    expect(warned).toHaveLength(1);
    expect(await scrapeSample(svc.url, 'phabmon_messages_rejected_total{reason="not_replicated"}')).toBe("1");
    svc.signal();
    await svc.finished;
  });

  it("a stray push id does not move the last push seen: a real push whose message was lost below it is still found", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 3600;
    await h.push(AUTOLAND, 10, t);
    await h.broker.publish(AUTOLAND, changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 7777, time: t + 5 }]));
    const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *" });
    await svc.waitForLog("check done");

    // Push 11's message never arrives; push 12's does. The hole 10 → 12 is searched in the pushlog.
    await h.push(AUTOLAND, 11, t + 100, { mirrored: false, publish: false });
    await h.push(AUTOLAND, 12, t + 200);
    const found = await svc.waitForLog("found pushes in the pushlog that never arrived over Pulse");
    expect(found.pushIds).toEqual([11]);
    const after = await svc.waitForLog("check done", svc.logs.filter((l) => l.msg === "check done").length + 1);
    expect(after).toMatchObject({ stoppedAt: { pushId: 11 } });
    svc.signal();
    await svc.finished;
  });
});

describe("the push time", () => {
  it("comes from the pushlog's date, not the message's time", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const pushed = nowSeconds() - 7200;
    // The message says an hour later than the pushlog; the pushlog is right.
    await h.push(AUTOLAND, 1, pushed, { mirrored: false, messageTime: pushed + 3600 });
    const result = await h.run(["--once"]);
    const lag = Number(lagOf(result.stdout));
    expect(lag).toBeGreaterThanOrEqual(7200);
    expect(lag).toBeLessThan(7230);
  });

  it("reads a 2016–2018 message's ten-times time as the push it is, and uses the pushlog's date", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const pushed = nowSeconds() - 900;
    await h.push(AUTOLAND, 1, pushed, { mirrored: false, messageTime: pushed * 10 });
    const result = await h.run(["--once"]);
    expect(result.logs.filter((l) => l.msg === "set aside a malformed or foreign message")).toEqual([]);
    const lag = Number(lagOf(result.stdout));
    expect(lag).toBeGreaterThanOrEqual(900);
    expect(lag).toBeLessThan(930);
  });
});
