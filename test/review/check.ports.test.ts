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
