// The code-review check on the runner, with fakes of its ports (Try queue session, pushlog, review
// lookup): no broker, no HTTP. The fakes answer as the adapters' contracts say (src/run/run-queue-check.ts QueueSession,
// src/pushlog/pushlog.ts PushlogClient, src/phabricator/review-lookup.ts ReviewLookup); the adapters are
// checked against the real formats elsewhere (test/fakes.test.ts, test/fidelity-review.amqp.test.ts).
import { beforeEach, afterEach, describe, expect, it } from "vitest";
import type { FullPush, PushlogClient, PushlogSlice } from "../../src/pushlog/pushlog.ts";
import type { ReviewLookup } from "../../src/phabricator/review-lookup.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { createReviewCheck } from "../../src/review/check.ts";
import { REVIEW_RUN_METRICS, declareReviewMetrics } from "../../src/review/metrics.ts";
import { reviewView } from "../../src/review/state.ts";
import { pipelineSection } from "../../src/review/status.ts";
import { createQueueCheckRunner, type QueueSession } from "../../src/run/run-queue-check.ts";
import { HG_PLACEHOLDER, changegroupV2, node } from "../support/hgpush.ts";
import { fakeRunnerPorts, fakeSession } from "../support/runner.ts";
import { createTestLog, type TestLog } from "../support/test-log.ts";

const TRY = "try";
const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);
const T = NOW_MS / 1000 - 600;

function session(pushIds: number[], otherConsumers = 0) {
  const q = fakeSession(
    pushIds.map((pushId) => ({ routingKey: TRY, body: changegroupV2(HG_PLACEHOLDER, TRY, [{ pushId, time: T }]) })),
    { otherConsumers },
  );
  return { s: q.session, record: { acked: q.acked, abandoned: q.abandoned } };
}

/** A Try pushlog where every push is a person's own (no bot commit), and Phabricator with no build waiting. */
function ports(tryPushes: number) {
  const people = (id: number): FullPush => ({
    pushId: id,
    pushTime: T,
    user: "dev@example.com",
    changesets: [{ node: node(`try-${id}`), author: "Dev <dev@example.com>", desc: "Bug 1 - a fix" }],
  });
  const slice = (range: { startId: number; endId: number }): PushlogSlice<FullPush> => {
    const pushes = new Map<number, FullPush>();
    for (let id = range.startId + 1; id <= Math.min(range.endId, tryPushes); id++) pushes.set(id, people(id));
    return { pushes, lastPushId: tryPushes };
  };
  const pushlog: Partial<PushlogClient> = {
    firstPushIdSince: () => Promise.resolve(1),
    fetchFullRange: (_r, range) => Promise.resolve(slice(range)),
    lastPushId: () => Promise.resolve(tryPushes),
    fetchRawFile: () => Promise.resolve(undefined),
  };
  const reviews: ReviewLookup = {
    diffs: () => Promise.resolve(new Map()),
    targets: () => Promise.resolve(new Map()),
    targetsOfBuilds: () => Promise.resolve([]),
    buildStatuses: () => Promise.resolve(new Map()),
    revisions: () => Promise.resolve(new Map()),
  };
  return { pushlog: pushlog as PushlogClient, reviews };
}

let testLog: TestLog;
beforeEach(() => {
  testLog = createTestLog();
});
afterEach(() => testLog.assertNoUnexpectedErrors([/^code-review pipeline check (step )?failed$/]));

function pipelineOf(drain: () => Promise<QueueSession>, tryPushes: number) {
  const registry = createRegistry({ version: "t", commit: "t" });
  const p = ports(tryPushes);
  const check = createReviewCheck({
    tryRepository: TRY,
    queue: "queue/test/q/try",
    hgUrl: HG_PLACEHOLDER,
    pushlog: p.pushlog,
    reviews: p.reviews,
    staleAfterMs: 900_000,
    log: testLog.log,
    now: () => NOW_MS,
  });
  declareReviewMetrics(registry);
  const runner = createQueueCheckRunner(
    check,
    fakeRunnerPorts({ registry, drain, names: REVIEW_RUN_METRICS, subjects: check.subjects, log: testLog.log, now: () => NOW_MS }),
  );
  return { pipeline: runner, published: () => reviewView(runner.state()), registry };
}

describe("the code-review check with fakes of its ports", () => {
  it("reads people's Try pushes, counts them as other, acks them, and publishes a whole view", async () => {
    const { s, record } = session([1, 2]);
    const { pipeline, published, registry } = pipelineOf(() => Promise.resolve(s), 2);
    const report = await pipeline.run();
    expect(report).toMatchObject({ ok: true, tryPushes: { codeReview: 0, other: 2 }, inFlight: 0 });
    expect(record.acked).toEqual([[0, 1]]);
    expect((await registry.getSingleMetric("phabmon_try_pushes_total")?.get())?.values.find((v) => v.labels.kind === "other")?.value).toBe(2);
    expect(published()?.whole).toBe(true);
  });

  it("with another consumer on the Try queue: hands everything back, says so, and the in-flight view is partial (unknown)", async () => {
    const { s, record } = session([1, 2], 1);
    const { pipeline, published } = pipelineOf(() => Promise.resolve(s), 2);
    const report = await pipeline.run();
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      expect.stringMatching(/^reading Try pushes: another consumer is reading queue\/test\/q\/try \(1\); everything was handed back$/),
    ]);
    expect(record.acked).toEqual([]);
    expect(record.abandoned()).toBe(1);
    expect(report.inFlight).toBeUndefined();
    expect(published()?.whole).toBe(false);
  });
});

describe("the code-review check's reviews in flight for over 2 h, on a fake clock", () => {
  const CREATED = Date.UTC(2026, 11, 7, 8, 0, 0) / 1000;
  const MIN = 60;
  const bot = (pushId: number, revision: number, diff: string): FullPush => ({
    pushId,
    pushTime: CREATED + 5 * MIN + pushId,
    user: "reviewbot",
    changesets: [
      {
        node: node(`bot-${pushId}`),
        author: "libmozdata <release-mgmt-analysis@mozilla.com>",
        desc: `try_task_config for https://phabricator.services.mozilla.com/D${revision}\n\nDifferential Diff: ${diff}`,
      },
    ],
  });
  const target = (diff: string, status = "target/waiting", completed: number | null = null) => ({
    phid: `PHID-HMBT-${diff.slice(-1)}`,
    buildPHID: `PHID-HMBD-${diff.slice(-1)}`,
    stepPHID: "PHID-HMCS-bot",
    status,
    epochCompleted: completed,
    buildGeneration: 1,
  });

  /** Diffs a (D101) and b (D102, 10 min younger) pushed by the bot and waiting, read back at the first check. */
  function harness() {
    let nowMs = 0;
    const pushes = [bot(1, 101, "PHID-DIFF-a"), bot(2, 102, "PHID-DIFF-b")];
    const created = new Map([
      ["PHID-DIFF-a", CREATED],
      ["PHID-DIFF-b", CREATED + 10 * MIN],
    ]);
    const targets = new Map([
      ["PHID-HMBT-a", target("PHID-DIFF-a")],
      ["PHID-HMBT-b", target("PHID-DIFF-b")],
    ]);
    const pushlog: Partial<PushlogClient> = {
      firstPushIdSince: () => Promise.resolve(1),
      lastPushId: () => Promise.resolve(2),
      fetchFullRange: (_r, range) =>
        Promise.resolve({
          pushes: new Map(pushes.filter((p) => p.pushId > range.startId && p.pushId <= range.endId).map((p) => [p.pushId, p])),
          lastPushId: 2,
        }),
      // Each push's try_task_config.json names the target of its diff (`PHID-DIFF-a` → `PHID-HMBT-a`).
      fetchRawFile: (_r, n) => {
        const diff = pushes.find((p) => p.changesets[0]?.node === n)?.changesets[0]?.desc.slice(-1);
        return Promise.resolve(JSON.stringify({ version: 2, parameters: { phabricator_diff: `PHID-HMBT-${diff}` } }));
      },
    };
    const reviews: ReviewLookup = {
      diffs: (phids) =>
        Promise.resolve(new Map(phids.map((phid) => [phid, { phid, id: 1, dateCreated: created.get(phid) as number, revisionPHID: undefined }]))),
      targets: (phids) =>
        Promise.resolve(
          new Map(
            phids.flatMap((phid) => {
              const known = targets.get(phid);
              return known === undefined ? [] : [[phid, known] as const];
            }),
          ),
        ),
      targetsOfBuilds: (builds) => Promise.resolve([...targets.values()].filter((t) => builds.includes(t.buildPHID))),
      buildStatuses: (builds) => Promise.resolve(new Map(builds.map((b) => [b, "building"]))),
      revisions: () => Promise.resolve(new Map()),
    };
    const registry = createRegistry({ version: "t", commit: "t" });
    const check = createReviewCheck({
      tryRepository: TRY,
      queue: "queue/test/q/try",
      hgUrl: HG_PLACEHOLDER,
      pushlog: pushlog as PushlogClient,
      reviews,
      staleAfterMs: 900_000,
      log: testLog.log,
      now: () => nowMs,
    });
    declareReviewMetrics(registry);
    const runner = createQueueCheckRunner(
      check,
      fakeRunnerPorts({
        registry,
        drain: () => Promise.resolve(fakeSession([]).session),
        names: REVIEW_RUN_METRICS,
        subjects: check.subjects,
        log: testLog.log,
        now: () => nowMs,
      }),
    );
    const runAt = async (minutesAfterCreation: number) => {
      nowMs = (CREATED + minutesAfterCreation * MIN) * 1000;
      expect((await runner.run()).ok).toBe(true);
    };
    return { runner, targets, runAt, now: () => nowMs };
  }
  const stuckLines = () => testLog.lines.filter((l) => l.msg === "review in flight for over 2 h");

  it("logs a review once when it crosses 2 h, not at the next checks, and never one that got its result before", async () => {
    const { runner, targets, runAt, now } = harness();

    await runAt(60); // the start-up read-back finds both in flight
    expect(runner.state().book.inFlight.size).toBe(2);
    await runAt(118);
    expect(stuckLines()).toEqual([]);
    // b gets its result at 1 h 55 min of its own age (2 h 05 min after a's creation): never logged.
    targets.set("PHID-HMBT-b", target("PHID-DIFF-b", "target/passed", CREATED + 125 * MIN));
    await runAt(126);
    expect(stuckLines()).toEqual([expect.objectContaining({ level: 40, revision: "D101", diff: "PHID-DIFF-a", tryPushId: 1, ageSeconds: 126 * MIN })]);
    expect(runner.state().book.inFlight.size).toBe(1);
    await runAt(131); // b would be over 2 h now
    await runAt(200);
    expect(stuckLines()).toHaveLength(1);
    expect(pipelineSection(reviewView(runner.state()), now(), 900_000).stuck).toEqual([
      { revision: "D101", diff: "PHID-DIFF-a", tryPushId: 1, ageSeconds: 200 * MIN },
    ]);
  });

  it("logs the reviews already over 2 h when the process starts once, at its first check", async () => {
    const { runAt } = harness();
    await runAt(180);
    expect(stuckLines().map((l) => [l.revision, l.ageSeconds])).toEqual([
      ["D101", 180 * MIN],
      ["D102", 170 * MIN],
    ]);
    await runAt(185);
    expect(stuckLines()).toHaveLength(2);
  });
});
