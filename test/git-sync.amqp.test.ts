// The Git → hg sync check end to end: Lando's messages (test/support/lando.ts) on a stand-in for
// exchange/landoprod/pushes, hg pushes carrying git_changesets (fake-hg), a Phabricator that knows
// Git hashes, the real broker, the real service.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { sampleIn } from "./support/scrape.ts";
import { commitsOf } from "./support/hgpush.ts";
import { landoPush } from "./support/lando.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);
const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
const SERIES = `{branch="autoland",repository="${AUTOLAND}"}`;

describe("the Git → hg sync (service)", () => {
  it("measures a Git push synced 90 s later as 90 s, acks it, and reports a sync lag of 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    const t = nowSeconds() - 600;
    // git-hg-sync's hg push 1 carries the Git push's four commits; the head is the last.
    await h.push(AUTOLAND, 1, t + 90, { git: {} });
    const head = commitsOf(`git:${AUTOLAND}`, 1, 4)[3] as string;
    await h.broker.publishLando(landoPush(4001, t, { autoland: head, main: "f".repeat(40) }));
    const svc = await h.start([]);
    await svc.waitForLog("git sync check done");
    const text = await scrape(svc.url);
    expect(sampleIn(text, `phabmon_sync_delay_seconds_count${SERIES}`)).toBe(1);
    expect(sampleIn(text, `phabmon_sync_delay_seconds_sum${SERIES}`)).toBe(90);
    expect(sampleIn(text, `phabmon_sync_lag_seconds${SERIES}`)).toBe(0);
    expect(sampleIn(text, `phabmon_sync_pending_pushes${SERIES}`)).toBe(0);
    expect(svc.logs.find((l) => l.msg === "git push synced to hg")).toMatchObject({ gitPushId: 4001, hgPushId: 1, delaySeconds: 90 });
    expect(await h.broker.depth(h.broker.gitQueue)).toBe(0);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });

  it("an unsynced Git push makes the sync lag grow at scrape time, and its message stays queued", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    const t = nowSeconds() - 120;
    await h.push(AUTOLAND, 1, t - 600, { git: {} });
    await h.broker.publishLando(landoPush(4002, t, { autoland: "a".repeat(40) }));
    const svc = await h.start([]);
    await svc.waitForLog("git sync check done");
    const first = sampleIn(await scrape(svc.url), `phabmon_sync_lag_seconds${SERIES}`) as number;
    expect(first).toBeGreaterThanOrEqual(120);
    await new Promise((r) => setTimeout(r, 2100));
    const second = sampleIn(await scrape(svc.url), `phabmon_sync_lag_seconds${SERIES}`) as number;
    expect(second - first).toBeGreaterThanOrEqual(2);
    expect(sampleIn(await scrape(svc.url), `phabmon_sync_pending_pushes${SERIES}`)).toBe(1);
    // /status says the same, naming the Git push that holds the sync lag.
    const status = (await (await fetch(`${svc.url}/status`)).json()) as { sync: Array<Record<string, unknown>> };
    expect(status.sync).toEqual([
      {
        branch: "autoland",
        repository: AUTOLAND,
        lagSeconds: expect.any(Number),
        oldestPending: { pushId: 4002, pushTime: new Date(t * 1000).toISOString(), head: "a".repeat(40) },
        pending: 1,
        lastCheck: expect.any(String),
        lastSuccess: expect.any(String),
        lastError: null,
        // The check's own lag, one point, since the process started.
        history: [{ at: status.sync[0]?.lastCheck, lagSeconds: expect.any(Number) }],
        historySince: expect.any(String),
      },
    ]);
    expect(status.sync[0]?.lagSeconds).toBeGreaterThanOrEqual(120);
    const [point] = status.sync[0]?.history as Array<{ at: string; lagSeconds: number }>;
    expect(point?.lagSeconds).toBeGreaterThanOrEqual(120);
    expect(Date.parse(status.sync[0]?.historySince as string)).toBeLessThan(Date.parse(point?.at ?? ""));
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
    // Not decided, so not acked: the next process finds it again.
    expect(await h.broker.depth(h.broker.gitQueue)).toBe(1);
  });

  it("for a repository checked as Git, measures landing → mirror, and waits for the mirror before acking", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=FIREFOX:git`], token: true, gitBranches: `autoland=${AUTOLAND}` });
    const t = nowSeconds() - 300;
    await h.push(AUTOLAND, 1, t + 30, { mirrored: false, git: {} });
    await h.push(AUTOLAND, 2, t + 60, { mirrored: false, git: { mirrored: false } });
    await h.broker.publishLando(landoPush(5001, t, { autoland: commitsOf(`git:${AUTOLAND}`, 1, 4)[3] as string }));
    await h.broker.publishLando(landoPush(5002, t + 20, { autoland: commitsOf(`git:${AUTOLAND}`, 2, 4)[3] as string }));
    const svc = await h.start([]);
    await svc.waitForLog("git sync check done");
    const text = await scrape(svc.url);
    expect(sampleIn(text, `phabmon_sync_delay_seconds_count${SERIES}`)).toBe(2);
    expect(sampleIn(text, `phabmon_sync_lag_seconds${SERIES}`)).toBe(0);
    // Push 5001's head is in FIREFOX: measured; 5002's is not yet: its message waits on the queue.
    expect(sampleIn(text, `phabmon_landing_to_mirror_seconds_count{repository="${AUTOLAND}",callsign="FIREFOX"}`)).toBe(1);
    expect(sampleIn(text, `phabmon_landing_to_mirror_seconds_sum{repository="${AUTOLAND}",callsign="FIREFOX"}`)).toBeGreaterThanOrEqual(300);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
    expect(await h.broker.depth(h.broker.gitQueue)).toBe(1);
  });

  it("sets a malformed Lando message aside, counted and kept, and it blocks nothing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    await h.broker.publishLando("{not json");
    await h.broker.publishLando(landoPush(6001, nowSeconds(), {}, { tags: { FIREFOX_NIGHTLY: "b".repeat(40) } }));
    const svc = await h.start([]);
    await svc.waitForLog("git sync check done");
    const text = await scrape(svc.url);
    expect(sampleIn(text, 'phabmon_messages_rejected_total{reason="not_json"}')).toBe(1);
    expect(sampleIn(text, 'phabmon_messages_skipped_total{reason="no_watched_branch"}')).toBe(1);
    expect(sampleIn(text, `phabmon_sync_lag_seconds${SERIES}`)).toBe(0);
    expect(await h.broker.depth(h.broker.gitQueue)).toBe(0);
    const kept = await h.broker.peekWithHeaders(`${h.broker.queue}/rejected`);
    expect(kept.map((k) => [k.headers["x-phabmon-reason"], k.body])).toEqual([["not_json", "{not json"]]);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });

  it("read-only (--once --no-send) hands every Lando message back, the malformed one too, and copies nothing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], gitBranches: `autoland=${AUTOLAND}` });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 1, t + 90, { git: {} });
    await h.broker.publishLando("{not json");
    await h.broker.publishLando(landoPush(7001, t, { autoland: commitsOf(`git:${AUTOLAND}`, 1, 4)[3] as string }));
    const result = await h.run(["--once", "--no-send"]);
    expect(result.code).toBe(0);
    expect(result.logs.find((l) => l.msg === "git push synced to hg")).toMatchObject({ gitPushId: 7001, delaySeconds: 90 });
    // One line for every check's malformed messages: the runner's (#27).
    expect(result.logs.some((l) => l.msg === "set aside a malformed or foreign message" && l.reason === "not_json")).toBe(true);
    // Both handed back, in order; read-only declares nothing, so there is no rejected queue to copy to.
    expect(await h.broker.depth(h.broker.gitQueue)).toBe(2);
  });
});
