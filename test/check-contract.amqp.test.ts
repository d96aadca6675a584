// The bugs that three shapes of check caused, each against the real broker and the fakes: one rule
// for --once (every check's line, --json and exit code), measures only once the broker took the ack,
// one rule for phabmon_messages_rejected_total, and a Try push read back at start-up measured when
// its message then arrives.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { TRY } from "./support/harness.ts";
import { changegroupV2, commitsOf } from "./support/hgpush.ts";
import { landoPush } from "./support/lando.ts";
import { sampleIn } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowS = () => Math.floor(Date.now() / 1000);

describe("one check contract", () => {
  it("--once prints the Git → hg sync's line and JSON, and exits 1 when the sync check fails", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    const t = nowS() - 600;
    await h.push(AUTOLAND, 1, t + 90, { git: {} });
    const head = commitsOf(`git:${AUTOLAND}`, 1, 4)[3] as string;
    await h.broker.publishLando(landoPush(4001, t, { autoland: head }));
    const ok = await h.run(["--once"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^autoland integration\/autoland Git → hg sync lag \(seconds\): 0 \(0 Git pushes pending\)$/m);

    await h.broker.publishLando(landoPush(4002, t + 60, { autoland: "b".repeat(40) }));
    // The sync reads lastpushid first: hg failing fails the sync check, and only it.
    h.hg.hangPaths = /json-pushes\?version=2&startID=0&endID=0/;
    const failed = await h.run(["--once", "--json"], { UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect(failed.code).toBe(1);
    const json = JSON.parse(failed.stdout) as { ok: boolean; gitSync: Array<{ branch: string; ok: boolean; error: string | null }> | null };
    expect(json.ok).toBe(false);
    expect(json.gitSync).toEqual([expect.objectContaining({ branch: "autoland", ok: false, error: expect.stringMatching(/json-pushes/) })]);
  });

  it("counts Try pushes only once the broker took their messages: a read-only service counts none", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, tryRepository: true });
    await h.tryPush(1, nowS() - 300);
    const readOnly = await h.start(["--no-send"], { CHECK_SCHEDULE: "*/2 * * * * *" });
    await readOnly.waitForLog("code-review pipeline check done", 2);
    const text = await (await fetch(`${readOnly.url}/metrics`)).text();
    readOnly.signal();
    await readOnly.finished;
    // Read twice and handed back twice: measured by nobody yet.
    expect(sampleIn(text, 'phabmon_try_pushes_total{kind="other"}')).toBe(0);
    expect(await h.broker.depth(h.broker.tryQueue)).toBe(1);
    const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *" });
    await svc.waitForLog("code-review pipeline check done", 2);
    const after = await (await fetch(`${svc.url}/metrics`)).text();
    svc.signal();
    await svc.finished;
    expect(sampleIn(after, 'phabmon_try_pushes_total{kind="other"}')).toBe(1);
  });

  it("counts a rejected message once, when it is set aside, whichever queue it came from", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    await h.broker.publish(AUTOLAND, null, { raw: Buffer.from("hello, pulse"), contentType: "application/json" });
    await h.broker.publishLando("hello, lando");
    const metric = 'phabmon_messages_rejected_total{reason="not_json"}';
    // Read-only: each check reads both and hands them back; nothing is set aside, nothing counted.
    const readOnly = await h.start(["--no-send"], { CHECK_SCHEDULE: "*/2 * * * * *" });
    await readOnly.waitForLog("git sync check done", 2);
    const seen = sampleIn(await (await fetch(`${readOnly.url}/metrics`)).text(), metric);
    readOnly.signal();
    await readOnly.finished;
    // No series, or 0: nothing was counted.
    expect(seen ?? 0).toBe(0);
    const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *" });
    await svc.waitForLog("git sync check done", 2);
    const counted = sampleIn(await (await fetch(`${svc.url}/metrics`)).text(), metric);
    svc.signal();
    await svc.finished;
    expect(counted).toBe(2);
  });

  it("measures a Try push that the start-up read-back already found when its message then arrives", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, tryRepository: true });
    const created = nowS() - 900;
    h.phab.addDiff({ phid: "PHID-DIFF-late", id: 7, dateCreated: created });
    h.phab.addBuild("PHID-DIFF-late");
    // In the pushlog before its message is delivered: the start-up read-back finds it first.
    await h.tryPush(5, created + 240, "PHID-DIFF-late", { publish: false });
    const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *" });
    expect(await svc.waitForLog("read back the reviews in flight from the Try pushlog and Phabricator")).toMatchObject({ recovered: 1 });
    await svc.waitForLog("code-review pipeline check done");
    await h.broker.publish(TRY, changegroupV2(h.hg.url, TRY, [{ pushId: 5, time: created + 240 }]));
    await svc.waitForLog("read code-review Try pushes");
    await svc.waitForLog("code-review pipeline check done", svc.logs.filter((l) => l.msg === "code-review pipeline check done").length + 1);
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    svc.signal();
    await svc.finished;
    expect(sampleIn(text, "phabmon_try_push_latency_seconds_count")).toBe(1);
    expect(sampleIn(text, "phabmon_try_push_latency_seconds_sum")).toBe(240);
    expect(await h.broker.depth(h.broker.tryQueue)).toBe(0);
  });
});
