// The replication check on the runner, with fakes of its ports (queue session, pushlog, mirror): no
// broker and no HTTP, so each rule can be shown on a handful of pushes. The fakes answer as the
// adapters' contracts say (src/run/run-queue-check.ts QueueSession, src/pushlog/pushlog.ts
// PushlogClient, src/mirror/mirror.ts Mirror, whose kinds all ask `exists` inside `has`); the adapters
// themselves are checked against the real formats elsewhere (test/fakes.test.ts, the *.amqp.test.ts files).
import type { Logger } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PushlogClient, PushlogPush, PushlogSlice } from "../../src/pushlog/pushlog.ts";
import { lagSeconds } from "../../src/run/lag.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { UnknownRepositoryError, type Mirror } from "../../src/mirror/mirror.ts";
import { createReplicationCheck } from "../../src/replication/check.ts";
import { REPLICATION_RUN_METRICS, declareReplicationMetrics } from "../../src/replication/metrics.ts";
import { createQueueCheckRunner } from "../../src/run/run-queue-check.ts";
import type { Repository } from "../../src/config/config.ts";
import { HG_PLACEHOLDER, changegroupV2, commitsOf } from "../support/hgpush.ts";
import { fakeRunnerPorts, fakeSession } from "../support/runner.ts";
import { createTestLog, type TestLog } from "../support/test-log.ts";

const AUTOLAND = "integration/autoland";
const REPOS: Repository[] = [{ path: AUTOLAND, mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } }];
const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);
const T = NOW_MS / 1000 - 3600;

function world(options: { pushes: number; mirroredUpTo: number; mirrorFails?: boolean; unknownRepository?: boolean; stripped?: number[]; readOnly?: boolean }) {
  const events: string[] = [];
  const queue = fakeSession(
    Array.from({ length: options.pushes }, (_, i) => ({
      routingKey: AUTOLAND,
      body: changegroupV2(HG_PLACEHOLDER, AUTOLAND, [{ pushId: i + 1, time: T + i }]),
    })),
  );
  const ranges: Array<{ startId: number; endId: number }> = [];
  const pushlog: Pick<PushlogClient, "fetchRange" | "lastPushId" | "firstPushIdSince"> = {
    fetchRange: (_repo, range) => {
      ranges.push(range);
      const pushes = new Map<number, PushlogPush>();
      for (let id = range.startId + 1; id <= Math.min(range.endId, options.pushes); id++) {
        if (options.stripped?.includes(id)) continue;
        pushes.set(id, { pushId: id, pushTime: T + id - 1, user: "tester@mozilla.com", changesets: commitsOf(AUTOLAND, id) });
      }
      return Promise.resolve({ pushes, lastPushId: options.pushes } satisfies PushlogSlice<PushlogPush>);
    },
    lastPushId: () => Promise.resolve(options.pushes),
    firstPushIdSince: () => Promise.resolve(1),
  };
  const mirrored = new Set(Array.from({ length: options.mirroredUpTo }, (_, i) => commitsOf(AUTOLAND, i + 1)).flat());
  const exists = () => {
    events.push("exists");
    // As the Conduit kind answers a callsign diffusion.repository.search does not find (src/phabricator/phabricator.ts).
    return options.unknownRepository ? Promise.reject(new UnknownRepositoryError("MOZILLACENTRAL")) : Promise.resolve();
  };
  const mirror: Mirror = {
    name: "MOZILLACENTRAL",
    how: "fake",
    exists,
    // Every kind resolves the repository first (conduitMirror's PHID, pageMirror's repository page).
    has: async (nodes) => {
      await exists();
      if (options.mirrorFails) throw new Error("diffusion.commit.search: HTTP 500");
      return new Set(nodes.filter((n) => mirrored.has(n)));
    },
  };
  const registry = createRegistry({ version: "t", commit: "t" });
  return { events, session: queue.session, acked: queue.acked, abandoned: queue.abandoned, ranges, pushlog, mirror, registry };
}

let testLog: TestLog;
beforeEach(() => {
  testLog = createTestLog();
});
afterEach(() => testLog.assertNoUnexpectedErrors([/^check failed$/]));

function runnerOf(w: ReturnType<typeof world>, log: Logger = testLog.log, readOnly = false) {
  const check = createReplicationCheck({
    repositories: REPOS,
    queue: "queue/test/q",
    hgUrl: HG_PLACEHOLDER,
    pushlog: w.pushlog as PushlogClient,
    mirrors: new Map([[AUTOLAND, w.mirror]]),
    staleAfterMs: 900_000,
    log,
    now: () => NOW_MS,
  });
  declareReplicationMetrics(w.registry, REPOS);
  const drain = () => {
    w.events.push("drain");
    return Promise.resolve(w.session);
  };
  const ports = fakeRunnerPorts({
    registry: w.registry,
    drain,
    names: REPLICATION_RUN_METRICS,
    subjects: check.subjects,
    log,
    now: () => NOW_MS,
    readOnly,
    repositories: REPOS,
  });
  return createQueueCheckRunner(check, ports);
}
const metricValue = async (w: ReturnType<typeof world>, name: string) =>
  (await w.registry.getSingleMetric(name)?.get())?.values.find((v) => v.value > 0)?.value ?? 0;

describe("the replication check with fakes of its ports", () => {
  it("acks every mirrored push and publishes a lag of 0", async () => {
    const w = world({ pushes: 5, mirroredUpTo: 5 });
    const runner = runnerOf(w);
    const report = await runner.run();
    expect(report.ok).toBe(true);
    expect(w.acked).toEqual([[0, 1, 2, 3, 4]]);
    const state = runner.state().get(AUTOLAND)?.state;
    expect(state && lagSeconds(state, NOW_MS, 900_000)).toBe(0);
    expect(await metricValue(w, "phabmon_pushes_verified_total")).toBe(5);
    expect(runner.health(NOW_MS)).toEqual([{ key: AUTOLAND, healthy: true, lastSuccessAt: NOW_MS, lastError: undefined }]);
  });

  it("stops at the first push not mirrored: acks the ones before, and the lag is that push's age", async () => {
    const w = world({ pushes: 5, mirroredUpTo: 2 });
    const report = await runnerOf(w).run();
    expect(report.ok).toBe(true);
    expect(w.acked).toEqual([[0, 1]]);
    expect(report.repositories[0]?.stoppedAt).toMatchObject({ pushId: 3, reason: { kind: "missing" } });
    // Push 3's time is the pushlog's date, T + 2: an hour and two seconds less two seconds ago.
    expect(report.repositories[0]?.lagSeconds).toBe(3600 - 2);
  });

  it("asks the pushlog no further than the first range that holds an unmirrored push", async () => {
    const w = world({ pushes: 450, mirroredUpTo: 10 });
    await runnerOf(w).run();
    // Ranges of 200: (0, 200] holds push 11; (200, 400] is read ahead while the mirror is asked, (400, 450] never.
    expect(w.ranges).toEqual([
      { startId: 0, endId: 200 },
      { startId: 200, endId: 400 },
    ]);
    expect(w.acked).toEqual([Array.from({ length: 10 }, (_, i) => i)]);
  });

  it("adds each check's lag to the repository's last day: the lag it concluded, null for a check that failed", async () => {
    const lagging = runnerOf(world({ pushes: 5, mirroredUpTo: 2 }));
    await lagging.run();
    expect(lagging.state().get(AUTOLAND)?.history).toEqual([{ atMs: NOW_MS, lagSeconds: 3600 - 2 }]);
    const failing = runnerOf(world({ pushes: 3, mirroredUpTo: 3, mirrorFails: true }));
    await failing.run();
    await failing.run();
    // Never a zero for a check that could not tell.
    expect(failing.state().get(AUTOLAND)?.history).toEqual([
      { atMs: NOW_MS, lagSeconds: null },
      { atMs: NOW_MS, lagSeconds: null },
    ]);
  });

  it("a mirror that fails is a failed check with the mirror's reason: nothing acked, the lag not zero", async () => {
    const w = world({ pushes: 3, mirroredUpTo: 3, mirrorFails: true });
    const report = await runnerOf(w).run();
    expect(report.ok).toBe(false);
    expect(report.repositories[0]).toMatchObject({ ok: false, reason: "mirror", error: "diffusion.commit.search: HTTP 500" });
    expect(w.acked).toEqual([[]]);
    expect(Number.isNaN(report.repositories[0]?.lagSeconds)).toBe(true);
    expect(await metricValue(w, "phabmon_check_failures_total")).toBe(1);
    expect(testLog.lines.some((l) => l.msg === "check failed")).toBe(true);
  });

  it("asks the mirror about its repository even with nothing to verify, and a repository it lacks fails the check as unknown_repository", async () => {
    const idle = world({ pushes: 0, mirroredUpTo: 0 });
    expect((await runnerOf(idle).run()).ok).toBe(true);
    // Asked as the read starts, so the lookup overlaps the drain, and its answer awaited once the
    // queue is read (the real kinds remember it: one request): an empty queue would otherwise vouch
    // for a repository nobody asked about.
    expect(idle.events).toEqual(["exists", "drain", "exists"]);
    const w = world({ pushes: 3, mirroredUpTo: 3, unknownRepository: true });
    const report = await runnerOf(w).run();
    expect(report.repositories[0]).toMatchObject({ ok: false, reason: "unknown_repository" });
    expect(report.repositories[0]?.error).toMatch(/no repository with the callsign MOZILLACENTRAL/);
    expect(w.acked).toEqual([[]]);
  });

  it("read-only: verifies and reports the lag, hands everything back, and measures nothing", async () => {
    const w = world({ pushes: 3, mirroredUpTo: 3 });
    const report = await runnerOf(w, testLog.log, true).run();
    expect(report.repositories[0]).toMatchObject({ ok: true, lagSeconds: 0, verified: 3 });
    expect(w.acked).toEqual([]);
    expect(w.abandoned()).toBe(1);
    // Verified but not acked: the next reader verifies them again and measures them then, once.
    expect(await metricValue(w, "phabmon_pushes_verified_total")).toBe(0);
  });

  it("the guard fails a test on an error it did not expect", () => {
    const guard = createTestLog();
    guard.log.error("check crashed");
    expect(() => guard.assertNoUnexpectedErrors([/^check failed$/])).toThrow(/unexpected error logged/);
    guard.lines.length = 0;
    guard.log.error("check failed");
    expect(() => guard.assertNoUnexpectedErrors([/^check failed$/])).not.toThrow();
  });
});
