// The code-review pipeline as Phabricator and the bot really behave: the review ends at the bot's own
// build target, the one its Try push's try_task_config.json names (mozilla/code-review
// bot/code_review_bot/vcs.py); a buildable can hold other builds; an aborted build leaves its target
// waiting (phacility/phabricator HarbormasterBuildMessageAbortTransaction.php); a restart adds a
// generation. The bot's commit is known by its description, whoever its author.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findReviewCommit } from "../src/review/review-commit.ts";
import { harnessPerTest } from "./support/per-test.ts";
import type { Harness, StartedService } from "./support/harness.ts";
import { commitsOf } from "./support/hgpush.ts";
import { sampleIn as sample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const DONE = "code-review pipeline check done";
const FAST = { CHECK_SCHEDULE: "*/2 * * * * *" };
const harness = harnessPerTest();
const now = () => Math.floor(Date.now() / 1000);
const REAL_DATA = new URL("../../shared/real-data/", import.meta.url);

const pipelineHarness = (): Promise<Harness> => harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], tryRepository: true });
const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();
async function nextCheck(svc: StartedService): Promise<void> {
  await svc.waitForLog(DONE, svc.logs.filter((l) => l.msg === DONE).length + 2);
}

describe("review time ends at the bot's own build target", () => {
  it("another build plan's build on the same diff does not count, whatever it says", async () => {
    const h = await pipelineHarness();
    const created = now() - 3000;
    h.phab.addDiff({ phid: "PHID-DIFF-two", id: 1, dateCreated: created });
    const bot = h.phab.addBuild("PHID-DIFF-two");
    const other = h.phab.addBuild("PHID-DIFF-two", { plan: "PHID-HMCP-autoplan0000000000000" });
    await h.tryPush(10, created + 60, "PHID-DIFF-two", { targetPHID: bot.targetPHIDs[0] as string });

    const svc = await h.start([], FAST);
    await svc.waitForLog(DONE);
    expect(sample(await metrics(svc.url), "phabmon_reviews_in_flight")).toBe(1);
    // The other plan's build fails while the bot's still runs: the review goes on.
    h.phab.finishTarget(other.targetPHIDs[0] as string, "failed", created + 300);
    await nextCheck(svc);
    expect(sample(await metrics(svc.url), "phabmon_reviews_in_flight")).toBe(1);

    h.phab.finishTarget(bot.targetPHIDs[0] as string, "passed", created + 900);
    await nextCheck(svc);
    const text = await metrics(svc.url);
    expect(sample(text, 'phabmon_review_duration_seconds_sum{outcome="passed"}')).toBe(900);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="failed"}') ?? 0).toBe(0);
    svc.signal();
    await svc.finished;
  });

  it("an aborted build ends the review though its target still waits; an errored one too", async () => {
    const h = await pipelineHarness();
    const created = now() - 3000;
    const builds: string[] = [];
    for (const [i, phid] of ["PHID-DIFF-abort", "PHID-DIFF-error"].entries()) {
      h.phab.addDiff({ phid, id: 10 + i, dateCreated: created });
      builds.push(h.phab.addBuild(phid).buildPHID);
      await h.tryPush(20 + i, created + 60, phid);
    }
    const svc = await h.start([], FAST);
    await svc.waitForLog(DONE);
    expect(sample(await metrics(svc.url), "phabmon_reviews_in_flight")).toBe(2);

    h.phab.setBuildStatus(builds[0] as string, "aborted");
    h.phab.setBuildStatus(builds[1] as string, "error");
    await nextCheck(svc);
    const text = await metrics(svc.url);
    expect([...h.phab.targets.values()].every((t) => t.status === "target/waiting")).toBe(true);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(0);
    expect(sample(text, 'phabmon_reviews_dropped_total{reason="aborted"}')).toBe(2);
    svc.signal();
    await svc.finished;
  });

  it("a restarted build's older generation does not count: the newest generation's result does", async () => {
    const h = await pipelineHarness();
    const created = now() - 3000;
    h.phab.addDiff({ phid: "PHID-DIFF-again", id: 30, dateCreated: created });
    const { buildPHID, targetPHIDs } = h.phab.addBuild("PHID-DIFF-again");
    await h.tryPush(30, created + 60, "PHID-DIFF-again");
    const svc = await h.start([], FAST);
    await svc.waitForLog(DONE);

    h.phab.finishTarget(targetPHIDs[0] as string, "failed", created + 100);
    const [second] = h.phab.restartBuild(buildPHID, created + 200);
    await nextCheck(svc);
    let text = await metrics(svc.url);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(1);
    expect(sample(text, 'phabmon_review_duration_seconds_count{outcome="failed"}') ?? 0).toBe(0);

    h.phab.finishTarget(second as string, "passed", created + 1500);
    await nextCheck(svc);
    text = await metrics(svc.url);
    expect(sample(text, 'phabmon_review_duration_seconds_sum{outcome="passed"}')).toBe(1500);
    svc.signal();
    await svc.finished;
  });

  it("a Try push without a target in its try_task_config.json is counted and not tracked for a day", async () => {
    const h = await pipelineHarness();
    const created = now() - 600;
    h.phab.addDiff({ phid: "PHID-DIFF-bare", id: 40, dateCreated: created });
    h.phab.addBuild("PHID-DIFF-bare");
    await h.tryPush(40, created + 60, "PHID-DIFF-bare", { targetPHID: null });
    const svc = await h.start([]);
    await svc.waitForLog(DONE);
    const text = await metrics(svc.url);
    expect(sample(text, "phabmon_reviews_in_flight")).toBe(0);
    expect(sample(text, 'phabmon_reviews_dropped_total{reason="no_target"}')).toBe(1);
    svc.signal();
    await svc.finished;
  });

  it("reads back at start-up only code-review reviews, never every waiting target on the instance", async () => {
    const h = await pipelineHarness();
    const created = now() - 900;
    h.phab.addDiff({ phid: "PHID-DIFF-ours", id: 50, dateCreated: created });
    h.phab.addBuild("PHID-DIFF-ours");
    // Acked by the process before this one: only the pushlog has it now.
    await h.tryPush(50, created + 60, "PHID-DIFF-ours", { publish: false });
    // Another build plan's targets wait too, on diffs the bot never pushed.
    for (let i = 0; i < 3; i++) {
      h.phab.addDiff({ phid: `PHID-DIFF-other${i}`, id: 60 + i, dateCreated: created });
      h.phab.addBuild(`PHID-DIFF-other${i}`, { plan: "PHID-HMCP-elsewhere000000000000" });
    }
    const svc = await h.start([]);
    expect(await svc.waitForLog("read back the reviews in flight from the Try pushlog and Phabricator")).toMatchObject({ recovered: 1 });
    await svc.waitForLog(DONE);
    expect(sample(await metrics(svc.url), "phabmon_reviews_in_flight")).toBe(1);
    svc.signal();
    await svc.finished;
  });
});

describe("the bot's Try commit", () => {
  // The recorded push is in ../shared/real-data, beside the checkout; a clone elsewhere skips it, as the conformance run does.
  it.runIf(existsSync(REAL_DATA))("is recognised in the recorded 2020 push, whose author was libmozevent", () => {
    const recorded = JSON.parse(readFileSync(new URL("json-automationrelevance-try-code-review-push-2020.treeherder.json", REAL_DATA), "utf8")) as {
      changesets: Array<{ node: string; author: string; desc: string }>;
    };
    expect(recorded.changesets.at(-1)?.author).toMatch(/^libmozevent /);
    expect(findReviewCommit(recorded.changesets)).toEqual({
      node: "18f68eb12ebbd88fe3a4fc3afe7df6529a0153fb",
      diffPHID: "PHID-DIFF-c4e7dcfpalwiem7bxsnk",
      revisionId: 64268,
    });
  });

  it("is recognised by its description through the pipeline, whoever authored it", async () => {
    const h = await pipelineHarness();
    const created = now() - 600;
    h.phab.addDiff({ phid: "PHID-DIFF-c4e7dcfpalwiem7bxsnk", id: 70, dateCreated: created });
    h.phab.addBuild("PHID-DIFF-c4e7dcfpalwiem7bxsnk");
    await h.tryPush(70, created + 45, "PHID-DIFF-c4e7dcfpalwiem7bxsnk", { author: "libmozevent <release-mgmt-analysis@mozilla.com>" });
    const svc = await h.start([]);
    await svc.waitForLog(DONE);
    const text = await metrics(svc.url);
    expect(sample(text, 'phabmon_try_pushes_total{kind="code_review"}')).toBe(1);
    expect(sample(text, "phabmon_try_push_latency_seconds_sum")).toBe(45);
    svc.signal();
    await svc.finished;
  });
});

describe("display-lag D123", () => {
  it("finds the diff's Try push among thousands by push id, in a few dozen requests", async () => {
    const h = await pipelineHarness();
    const start = now() - 5 * 86400;
    // 3,000 Try pushes over five days, one every 144 s; the bot's is push 2003.
    const created = start + 2000 * 144 + 10;
    for (let id = 1; id <= 3000; id++) {
      if (id !== 2003) h.hg.addPush("try", { pushId: id, date: start + id * 144, user: "dev@example.com", changesets: commitsOf("try", id, 1) });
    }
    h.phab.addDiff({ phid: "PHID-DIFF-found", id: 80, dateCreated: created, revisionId: 8080 });
    const { targetPHIDs } = h.phab.addBuild("PHID-DIFF-found");
    await h.tryPush(2003, created + 300, "PHID-DIFF-found", { revisionId: 8080, publish: false });
    h.phab.finishTarget(targetPHIDs[0] as string, "passed", created + 1200);

    const before = h.hg.requests.length;
    const shown = await h.run(["D8080"], {}, "display-lag");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/pushed to Try: push 2003 \([0-9a-f]{12}\) at .*; Try push latency \(seconds\): 300/);
    expect(shown.stdout).toContain("review time (seconds): 1200");
    const requests = h.hg.requests.slice(before);
    expect(requests.length).toBeLessThanOrEqual(30);
    expect(requests.every((r) => !r.includes("startdate"))).toBe(true);
  });
});
