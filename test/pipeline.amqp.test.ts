// The code-review pipeline measured end to end: Try pushes over the real broker, the Try pushlog and
// Conduit played by the local fakes, the figures read off /metrics and the printed result.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { TRY, type Harness, type StartedService } from "./support/harness.ts";
import { changegroupV2 } from "./support/hgpush.ts";
import { sampleIn as sample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const DONE = "code-review pipeline check done";
// A check every two seconds, for tests that watch the running service move.
const FAST = { CHECK_SCHEDULE: "*/2 * * * * *" };

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Waits for a pipeline check that started after this call (the one running may predate a change). */
async function checkAfterNow(svc: StartedService): Promise<Record<string, unknown>> {
  const seen = svc.logs.filter((l) => l.msg === DONE).length;
  return svc.waitForLog(DONE, seen + 2);
}

const now = () => Math.floor(Date.now() / 1000);

async function pipelineHarness(): Promise<Harness> {
  return harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], tryRepository: true });
}

describe("code-review pipeline", () => {
  it("measures a bot Try push's latency exactly and leaves people's own Try pushes unmeasured", async () => {
    const h = await pipelineHarness();
    const created = now() - 900;
    h.phab.addDiff({ phid: "PHID-DIFF-mpa55sfv2atas4tghu6m", id: 125397, dateCreated: created, revisionId: 36474 });
    h.phab.addBuild("PHID-DIFF-mpa55sfv2atas4tghu6m");
    await h.tryPush(120040, created + 187, "PHID-DIFF-mpa55sfv2atas4tghu6m", { revisionId: 36474 });
    await h.tryPush(120041, created + 200);

    const svc = await h.start([]);
    await svc.waitForLog(DONE);
    const text = await metrics(svc.url);
    expect(sample(text, "phabmon_try_push_latency_seconds_count")).toBe(1);
    expect(sample(text, "phabmon_try_push_latency_seconds_sum")).toBe(187);
    expect(sample(text, 'phabmon_try_pushes_total{kind="code_review"}')).toBe(1);
    expect(sample(text, 'phabmon_try_pushes_total{kind="other"}')).toBe(1);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(1);
    const oldest = sample(text, "phabmon_oldest_review_in_flight_seconds") as number;
    expect(oldest).toBeGreaterThanOrEqual(900);
    expect(oldest).toBeLessThan(930);
    expect(sample(text, `phabmon_queue_messages{queue="${h.broker.tryQueue}"}`)).toBe(0);
    // The Try messages went to the Try queue only, and were acked once read.
    expect(await h.broker.depth(h.broker.tryQueue)).toBe(0);
    expect(sample(text, `phabmon_messages_received_total{repository="${AUTOLAND}"}`)).toBe(0);
    svc.signal();
    expect((await svc.finished).code).toBe(0);
  });

  it("ends reviews with the outcome of their build target, and the in-flight gauges follow", async () => {
    const h = await pipelineHarness();
    const created = now() - 3000;
    const targets: Record<string, string> = {};
    for (const [i, phid] of ["PHID-DIFF-pass", "PHID-DIFF-fail", "PHID-DIFF-wait"].entries()) {
      h.phab.addDiff({ phid, id: 200 + i, dateCreated: created + i * 100 });
      targets[phid] = h.phab.addBuild(phid).targetPHIDs[0] as string;
      await h.tryPush(10 + i, created + i * 100 + 60, phid, { revisionId: 300 + i });
    }
    const svc = await h.start([], FAST);
    await svc.waitForLog(DONE);
    let text = await metrics(svc.url);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(3);
    expect(sample(text, "phabmon_oldest_review_in_flight_seconds")).toBeGreaterThanOrEqual(3000);
    expect(sample(text, "phabmon_try_push_latency_seconds_sum")).toBe(180);

    // The bot reports back: one passes 840 s after its diff was created, one fails 1320 s after.
    h.phab.finishTarget(targets["PHID-DIFF-pass"] as string, "passed", created + 840);
    h.phab.finishTarget(targets["PHID-DIFF-fail"] as string, "failed", created + 100 + 1320);
    await checkAfterNow(svc);
    text = await metrics(svc.url);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="passed"}')).toBe(1);
    expect(sample(text, 'phabmon_review_duration_seconds_sum{outcome="passed"}')).toBe(840);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="failed"}')).toBe(1);
    expect(sample(text, 'phabmon_review_duration_seconds_sum{outcome="failed"}')).toBe(1320);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(1);
    const oldest = sample(text, "phabmon_oldest_review_in_flight_seconds") as number;
    expect(oldest).toBeGreaterThanOrEqual(2800);
    expect(oldest).toBeLessThan(2830);

    // An aborted target ends the review with no measure, counted as dropped.
    h.phab.finishTarget(targets["PHID-DIFF-wait"] as string, "aborted", created + 2000);
    await checkAfterNow(svc);
    text = await metrics(svc.url);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(0);
    expect(sample(text, "phabmon_oldest_review_in_flight_seconds")).toBe(0);
    expect(sample(text, 'phabmon_reviews_dropped_total{reason="aborted"}')).toBe(1);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="passed"}')).toBe(1);
    svc.signal();
    await svc.finished;
  });

  it("reads back the reviews in flight after a restart, and finishes them", async () => {
    const h = await pipelineHarness();
    const created = now() - 600;
    h.phab.addDiff({ phid: "PHID-DIFF-before", id: 1, dateCreated: created });
    const { targetPHIDs } = h.phab.addBuild("PHID-DIFF-before", { created: created + 5 });
    // A target waiting for more than 24 h is not read back: the bot skips diffs that old.
    h.phab.addDiff({ phid: "PHID-DIFF-ancient", id: 2, dateCreated: created - 2 * 86400 });
    h.phab.addBuild("PHID-DIFF-ancient", { created: created - 2 * 86400 });
    // The previous process read (and acked) its Try push; this one never sees that message.
    await h.tryPush(7, created + 120, "PHID-DIFF-before", { publish: false });
    // A stripped Try push in the day read back: json-pushes answers tipsonly=1 over its range with a
    // 500 (served/hgweb-vct/try-tipsonly-after-strip.json), so the read-back must not ask for it.
    await h.tryPush(6, created + 60, undefined, { publish: false });
    h.hg.strip(TRY, 6);

    const svc = await h.start([], FAST);
    expect(await svc.waitForLog("read back the reviews in flight from the Try pushlog and Phabricator")).toMatchObject({ recovered: 1 });
    await svc.waitForLog(DONE);
    let text = await metrics(svc.url);
    expect(sample(text, "phabmon_reviews_recovered_total")).toBe(1);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(1);

    h.phab.finishTarget(targetPHIDs[0] as string, "passed", created + 700);
    await checkAfterNow(svc);
    text = await metrics(svc.url);
    expect(sample(text, 'phabmon_review_duration_seconds_sum{outcome="passed"}')).toBe(700);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(0);
    // No Try push was read by this process, so no latency is claimed for it.
    expect(sample(text, "phabmon_try_push_latency_seconds_count")).toBe(0);
    // Recovery is done once per process, not at every check.
    expect(svc.logs.filter((l) => l.msg === "read back the reviews in flight from the Try pushlog and Phabricator")).toHaveLength(1);
    svc.signal();
    await svc.finished;
  });

  it("measures a burst of 500 Try pushes with a handful of Conduit calls", { timeout: 120_000 }, async () => {
    const h = await pipelineHarness();
    const created = now() - 1200;
    const svc = await h.start([], FAST);
    await svc.waitForLog(DONE);

    const messages = [];
    for (let i = 0; i < 500; i++) {
      const phid = `PHID-DIFF-burst${String(i).padStart(4, "0")}`;
      h.phab.addDiff({ phid, id: 5000 + i, dateCreated: created });
      h.phab.addBuild(phid);
      await h.tryPush(1000 + i, created + 300, phid, { publish: false });
      messages.push({ routingKey: TRY, body: changegroupV2(h.hg.url, TRY, [{ pushId: 1000 + i, time: created + 300 }]) });
    }
    const before = h.phab.calls();
    const hgBefore = h.hg.requests.length;
    await h.broker.publishMany(messages);
    let check: Record<string, unknown> = await svc.waitForLog(DONE, svc.logs.filter((l) => l.msg === DONE).length + 1);
    while ((check.tryPushes as { codeReview: number }).codeReview === 0) check = await svc.waitForLog(DONE, svc.logs.filter((l) => l.msg === DONE).length + 1);
    const burstCalls = h.phab.calls() - before;
    expect(check).toMatchObject({ tryPushes: { codeReview: 500, other: 0 }, inFlight: 500 });
    expect(sample(await metrics(svc.url), "phabmon_try_push_latency_seconds_count")).toBe(500);
    // 5 calls each for the diffs, their bot targets (by the PHIDs their try_task_config.json names),
    // every target of those builds and the builds' statuses.
    expect(burstCalls).toBeLessThanOrEqual(20);
    expect(h.hg.requests.slice(hgBefore).filter((r) => r.includes("/try/json-pushes")).length).toBe(10);

    // With 500 in flight, a check reads the targets of their builds (a restart adds a generation) and
    // the builds' statuses (an abort changes only the build's): 2 calls per 100.
    const steadyBefore = h.phab.calls();
    const steady = await svc.waitForLog(DONE, svc.logs.filter((l) => l.msg === DONE).length + 1);
    const steadyCalls = h.phab.calls() - steadyBefore;
    expect(steadyCalls).toBeLessThanOrEqual(10);

    for (const target of h.phab.targets.values()) {
      target.status = "target/passed";
      target.epochCompleted = created + 900;
    }
    await checkAfterNow(svc);
    const text = await metrics(svc.url);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="passed"}')).toBe(500);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(0);
    console.log(
      `500 Try pushes: ${burstCalls} Conduit calls in the check that read them; with 500 in flight a check made ${steadyCalls} calls and took ${String(steady.durationMs)} ms`,
    );
    svc.signal();
    await svc.finished;
  });

  it("never lets Try traffic delay or reorder the replication check", async () => {
    const h = await pipelineHarness();
    const t = now() - 600;
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t + 10, { mirrored: false });
    await h.push(AUTOLAND, 3, t + 20);
    for (let i = 0; i < 200; i++) await h.tryPush(50 + i, t, `PHID-DIFF-t${i}`);
    // The Try pushlog never answers.
    h.hg.hangPaths = /^\/try\//;
    const result = await h.run(["--once"], { UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`^${AUTOLAND} MOZILLACENTRAL replication lag \\(seconds\\): 59\\d \\(9 min 5\\d s\\) \\(2 pushes pending\\)`, "m"),
    );
    expect(result.stdout).toMatch(/^try code-review pipeline: .*\[check failed: reading Try pushes: /m);
    // The replication queue holds what it held, in push order; the Try pushes wait on their own queue.
    const left = (await h.broker.peek()).map(
      (b) => (JSON.parse(b) as { payload: { data: { pushlog_pushes: Array<{ pushid: number }> } } }).payload.data.pushlog_pushes[0]?.pushid,
    );
    expect(left).toEqual([2, 3]);
    expect(await h.broker.depth(h.broker.tryQueue)).toBe(200);
    // The replication check finished before the pipeline read anything.
    const done = result.logs.findIndex((l) => l.msg === "check done");
    const firstPipeline = result.logs.findIndex((l) => l.component === "pipeline");
    expect(done).toBeGreaterThanOrEqual(0);
    expect(firstPipeline).toBeGreaterThan(done);
  });

  it("says at start-up which metrics are off and why when there is no Conduit token, and exports none of them", async () => {
    const h = await pipelineHarness();
    const noToken = { PHABRICATOR_API_TOKEN: undefined };
    const check = await h.run(["--check-config"], noToken);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("code-review pipeline metrics: off (PHABRICATOR_API_TOKEN is not set;");
    expect((await h.run(["--check-config"])).stdout).toContain(`code-review pipeline metrics: on (Try repository try, queue ${h.broker.tryQueue})`);

    const svc = await h.start([], noToken);
    const off = await svc.waitForLog(
      "code-review pipeline metrics are off: PHABRICATOR_API_TOKEN is not set; diffs and Harbormaster build targets can only be read through Conduit",
    );
    expect(off.off).toEqual([
      "phabmon_try_push_latency_seconds",
      "phabmon_review_duration_seconds",
      "phabmon_reviews_in_flight",
      "phabmon_oldest_review_in_flight_seconds",
    ]);
    await svc.waitForLog("check done");
    const text = await metrics(svc.url);
    expect(text).not.toContain("phabmon_reviews_in_flight");
    expect(text).not.toContain("phabmon_try_push_latency_seconds");
    expect(text).not.toContain(h.broker.tryQueue);
    svc.signal();
    await svc.finished;
  });

  it("display-lag shows where a diff stands: created, pushed to Try, result and durations", async () => {
    const h = await pipelineHarness();
    const created = now() - 5000;
    h.phab.addDiff({ phid: "PHID-DIFF-shown", id: 4242, dateCreated: created, revisionId: 777 });
    const { targetPHIDs } = h.phab.addBuild("PHID-DIFF-shown");
    h.phab.addDiff({ phid: "PHID-DIFF-waiting", id: 4243, dateCreated: created });
    h.phab.addBuild("PHID-DIFF-waiting");
    // Other Try pushes around it, in the pushlog only.
    await h.tryPush(900, created + 100, undefined, { publish: false });
    await h.tryPush(901, created + 245, "PHID-DIFF-shown", { revisionId: 777, publish: false });
    await h.tryPush(902, created + 300, "PHID-DIFF-other", { publish: false });
    // A stripped Try push in the range read (tipsonly=1 over it would be a 500).
    h.hg.strip(TRY, 900);
    h.phab.finishTarget(targetPHIDs[0] as string, "failed", created + 1000);

    const shown = await h.run(["D777", "PHID-DIFF-waiting", "D999"], {}, "display-lag");
    expect(shown.code).toBe(0);
    const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
    expect(shown.stdout.split("\n")).toEqual([
      `D777 PHID-DIFF-shown (diff 4242): created ${iso(created)}`,
      expect.stringMatching(/^ {2}pushed to Try: push 901 \([0-9a-f]{12}\) at .*; Try push latency \(seconds\): 245$/),
      `  result: failed at ${iso(created + 1000)}; review time (seconds): 1000`,
      `PHID-DIFF-waiting (diff 4243): created ${iso(created)}`,
      "  pushed to Try: no code-review Try push found in the 24 h after it was created",
      "  result: unknown without its code-review Try push",
      "D999: no such revision (or it is not visible to this token)",
      "",
    ]);
    expect(h.hg.requests.filter((r) => r.includes("tipsonly"))).toEqual([]);

    const refused = await h.run(["D777"], { PHABRICATOR_API_TOKEN: undefined }, "display-lag");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe("configuration error: PHABRICATOR_API_TOKEN: not set; a diff can only be looked up through Conduit\n");
  });
});
