// The replication check with fakes of its ports (queue session, pushlog, mirror): no broker and no
// HTTP, so each rule of the middle layer can be shown on a handful of pushes. The fakes answer as the
// adapters' contracts say (src/run/queue-read.ts QueueSession, src/pushlog/pushlog.ts PushlogClient,
// src/mirror/mirror.ts Mirror); the adapters themselves are checked against the real formats elsewhere
// (test/fakes.test.ts, the *.amqp.test.ts files).
import { pino, type Logger } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Delivery } from "../../src/pulse/pulse.ts";
import type { PushlogClient, PushlogPush, PushlogSlice } from "../../src/pushlog/pushlog.ts";
import { lagSeconds } from "../../src/run/lag.ts";
import { createRegistry, messageMetrics, replicationMetrics, type ReplicationView } from "../../src/app/metrics.ts";
import { UnknownRepositoryError, type Mirror } from "../../src/mirror/mirror.ts";
import { createMonitor } from "../../src/replication/monitor.ts";
import type { QueueSession } from "../../src/run/queue-read.ts";
import type { Repository } from "../../src/config/config.ts";
import { HG_PLACEHOLDER, changegroupV2, commitsOf } from "../support/hgpush.ts";
import { createTestLog, type TestLog } from "../support/test-log.ts";

const AUTOLAND = "integration/autoland";
const REPOS: Repository[] = [{ path: AUTOLAND, mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } }];
const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);
const T = NOW_MS / 1000 - 3600;

function world(options: { pushes: number; mirroredUpTo: number; mirrorFails?: boolean; unknownRepository?: boolean; stripped?: number[] }) {
  const events: string[] = [];
  const deliveries: Delivery[] = Array.from({ length: options.pushes }, (_, i) => ({
    index: i,
    routingKey: AUTOLAND,
    exchange: "exchange/hgpushes/v2",
    body: Buffer.from(JSON.stringify(changegroupV2(HG_PLACEHOLDER, AUTOLAND, [{ pushId: i + 1, time: T + i }]))),
    contentType: "application/json",
    redelivered: false,
  }));
  const acked: number[][] = [];
  let abandoned = 0;
  const session: QueueSession = {
    deliveries,
    depthAtStart: { messages: deliveries.length, consumers: 1 },
    otherConsumers: 0,
    queueRecreated: false,
    cancelled: false,
    settle: (ack) => {
      acked.push([...ack]);
      return Promise.resolve(true);
    },
    abandon: () => {
      abandoned++;
      return Promise.resolve();
    },
  };
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
  const mirror: Mirror = {
    name: "MOZILLACENTRAL",
    how: "fake",
    exists: () => {
      events.push("exists");
      // As the Conduit kind answers a callsign diffusion.repository.search does not find (src/phabricator/phabricator.ts).
      return options.unknownRepository ? Promise.reject(new UnknownRepositoryError("MOZILLACENTRAL")) : Promise.resolve();
    },
    has: (nodes) =>
      options.mirrorFails ? Promise.reject(new Error("diffusion.commit.search: HTTP 500")) : Promise.resolve(new Set(nodes.filter((n) => mirrored.has(n)))),
  };
  const registry = createRegistry({ version: "t", commit: "t" });
  let published: ReplicationView = new Map();
  return {
    events,
    session,
    acked,
    ranges,
    pushlog,
    mirror,
    registry,
    abandoned: () => abandoned,
    published: () => published,
    publish: (v: ReplicationView) => (published = v),
  };
}

let testLog: TestLog;
beforeEach(() => {
  testLog = createTestLog();
});
afterEach(() => testLog.assertNoUnexpectedErrors([/^check failed$/]));

function monitorOf(w: ReturnType<typeof world>, log: Logger = testLog.log) {
  const monitor = createMonitor({
    hgUrl: HG_PLACEHOLDER,
    queue: "queue/test/q",
    checkIntervalMs: 300_000,
    maxMessagesPerCheck: 10_000,
    readOnly: false,
    drain: () => {
      w.events.push("drain");
      return Promise.resolve(w.session);
    },
    recordDepth: () => undefined,
    messageMetrics: messageMetrics(w.registry, REPOS),
    log,
    now: () => NOW_MS,
    pushlog: w.pushlog as PushlogClient,
    repositories: REPOS,
    queueDepth: () => Promise.resolve({ messages: 0, consumers: 1 }),
    mirrors: new Map([[AUTOLAND, w.mirror]]),
    metrics: replicationMetrics(w.registry, REPOS),
    publish: w.publish,
  });
  return monitor;
}

describe("the replication check with fakes of its ports", () => {
  it("acks every mirrored push and publishes a lag of 0", async () => {
    const w = world({ pushes: 5, mirroredUpTo: 5 });
    const report = await monitorOf(w).runCheck();
    expect(report.ok).toBe(true);
    expect(w.acked).toEqual([[0, 1, 2, 3, 4]]);
    const state = w.published().get(AUTOLAND);
    expect(state && lagSeconds(state, NOW_MS, 900_000)).toBe(0);
  });

  it("stops at the first push not mirrored: acks the ones before, and the lag is that push's age", async () => {
    const w = world({ pushes: 5, mirroredUpTo: 2 });
    const report = await monitorOf(w).runCheck();
    expect(report.ok).toBe(true);
    expect(w.acked).toEqual([[0, 1]]);
    expect(report.repositories[0]?.stoppedAt).toMatchObject({ pushId: 3, reason: { kind: "missing" } });
    // Push 3's time is the pushlog's date, T + 2: an hour and two seconds less two seconds ago.
    expect(report.repositories[0]?.lagSeconds).toBe(3600 - 2);
  });

  it("asks the pushlog no further than the first range that holds an unmirrored push", async () => {
    const w = world({ pushes: 450, mirroredUpTo: 10 });
    await monitorOf(w).runCheck();
    // Ranges of 200: (0, 200] holds push 11; (200, 400] is read ahead while the mirror is asked, (400, 450] never.
    expect(w.ranges).toEqual([
      { startId: 0, endId: 200 },
      { startId: 200, endId: 400 },
    ]);
    expect(w.acked).toEqual([Array.from({ length: 10 }, (_, i) => i)]);
  });

  it("a mirror that fails is a failed check with the mirror's reason: nothing acked, the lag not zero", async () => {
    const w = world({ pushes: 3, mirroredUpTo: 3, mirrorFails: true });
    const report = await monitorOf(w).runCheck();
    expect(report.ok).toBe(false);
    expect(report.repositories[0]).toMatchObject({ ok: false, reason: "mirror", error: "diffusion.commit.search: HTTP 500" });
    expect(w.acked).toEqual([[]]);
    expect(Number.isNaN(report.repositories[0]?.lagSeconds)).toBe(true);
    expect(testLog.lines.some((l) => l.msg === "check failed")).toBe(true);
  });

  it("asks the mirror for its repository before reading the queue, and a repository it lacks fails the check as unknown_repository", async () => {
    const ok = world({ pushes: 3, mirroredUpTo: 3 });
    await monitorOf(ok).runCheck();
    // Once per check at most: the Conduit kind answers it from memory after the first time.
    expect(ok.events).toEqual(["exists", "drain"]);
    const w = world({ pushes: 3, mirroredUpTo: 3, unknownRepository: true });
    const report = await monitorOf(w).runCheck();
    expect(report.repositories[0]).toMatchObject({ ok: false, reason: "unknown_repository" });
    expect(report.repositories[0]?.error).toMatch(/no repository with the callsign MOZILLACENTRAL/);
    expect(w.acked).toEqual([[]]);
  });

  it("a check that throws midway hands everything it read back to the queue", async () => {
    const w = world({ pushes: 3, mirroredUpTo: 3, stripped: [2] });
    // A logger that throws at the line about the stripped push: any throw between the read and the settle.
    const throwing = pino(
      {
        hooks: {
          logMethod(args, method) {
            if (args.some((a) => typeof a === "string" && a.includes("(stripped)"))) throw new Error("a bug midway");
            method.apply(this, args);
          },
        },
      },
      { write: () => undefined },
    );
    await expect(monitorOf(w, throwing).runCheck()).rejects.toThrow("a bug midway");
    expect(w.acked).toEqual([]);
    expect(w.abandoned()).toBe(1);
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
