// The registry as the composition root builds it, each part's series declared by that part: the lag
// and the status series computed at scrape time from what the replication check published.
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/app/metrics.ts";
import { messageMetrics } from "../../src/run/message-metrics.ts";
import { pulseMetrics, registerQueueOwnership } from "../../src/pulse/metrics.ts";
import { upstreamMetrics } from "../../src/upstream/metrics.ts";
import { REPLICATION_RUN_METRICS, declareReplicationMetrics, registerReplicationCollectors } from "../../src/replication/metrics.ts";
import type { RepositoryStatusEntry } from "../../src/replication/status.ts";
import { runMetrics } from "../../src/run/run-metrics.ts";
import { Registry } from "prom-client";
import type { Repository } from "../../src/config/config.ts";
import type { RepositoryState } from "../../src/run/lag.ts";

const repositories: Repository[] = [
  { path: "integration/autoland", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } },
  { path: "mozilla-central", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } },
];

const STALE_AFTER_MS = 900_000;
type States = () => ReadonlyMap<string, RepositoryState>;
/** The registry as the composition root builds it, with the lag computed from `states`. */
function build(states: States, now: () => number, log?: { warn: (obj: object, msg: string) => void }) {
  const registry = createRegistry({ version: "1", commit: "c" });
  upstreamMetrics(registry);
  pulseMetrics(registry);
  messageMetrics(registry, repositories);
  declareReplicationMetrics(registry, repositories);
  runMetrics(
    registry,
    REPLICATION_RUN_METRICS,
    repositories.map((r) => ({ labels: { repository: r.path } })),
  );
  registerReplicationCollectors(registry, {
    repositories,
    states,
    section: () => [],
    connected: () => true,
    staleAfterMs: STALE_AFTER_MS,
    now,
    ...(log ? { log } : {}),
  });
  return { registry };
}
const nothingKnown: States = () => new Map();

describe("the metrics", () => {
  it("computes the lag at scrape time from the published state, with the scrape's clock", async () => {
    let now = 1_000_000;
    // One push 1,000 s old at the last check, which found it unmirrored; mozilla-central never checked.
    const lagging: RepositoryState = { lastSuccessAt: now, oldestUnverifiedPushTime: now / 1000 - 1000, pendingPushes: 1, lastCheckOk: true };
    const metrics = build(
      () => new Map([["integration/autoland", lagging]]),
      () => now,
    );
    now += 42_000;
    const text = await metrics.registry.metrics();
    expect(text).toContain('phabmon_replication_lag_seconds{repository="integration/autoland",callsign="MOZILLACENTRAL"} 1042');
    expect(text).toMatch(/phabmon_replication_lag_seconds\{repository="mozilla-central",callsign="MOZILLACENTRAL"\} nan/i);
  });

  it("keeps the scrape working when the lag collector throws, reporting NaN and a warning", async () => {
    const warnings: string[] = [];
    const broken: States = () => {
      throw new Error("state is broken");
    };
    const metrics = build(broken, Date.now, { warn: (obj, msg) => warnings.push(`${msg}: ${String((obj as { err?: unknown }).err)}`) });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/phabmon_replication_lag_seconds\{repository="integration\/autoland",callsign="MOZILLACENTRAL"\} nan/i);
    expect(text).toContain("phabmon_build_info");
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining("state is broken")]));
  });

  it("reports the event loop's delays since the last scrape, without the series that cost a walk of the histogram", async () => {
    const metrics = build(nothingKnown, Date.now);
    await metrics.registry.metrics();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const blockedUntil = performance.now() + 60;
    while (performance.now() < blockedUntil); // a 60 ms stall of the event loop
    await new Promise((resolve) => setTimeout(resolve, 30));
    const text = await metrics.registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("nodejs_eventloop_lag_max_seconds")).toBeGreaterThanOrEqual(0.05);
    expect(value("nodejs_eventloop_lag_max_seconds")).toBeLessThan(1);
    expect(value("nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0.05);
    expect(value("nodejs_eventloop_lag_min_seconds")).toBeLessThan(value("nodejs_eventloop_lag_max_seconds"));
    expect(value("nodejs_eventloop_lag_p50_seconds")).toBeGreaterThan(0);
    expect(text).not.toMatch(/nodejs_eventloop_lag_(mean|stddev)_seconds/);
    // The stall is not reported again by the next scrape: each covers the time since the one before.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await metrics.registry.metrics();
    expect(Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(next)?.[1])).toBeLessThan(0.05);
  });

  it("exports the series that will exist at zero from the start", async () => {
    const metrics = build(nothingKnown, Date.now);
    const text = await metrics.registry.metrics();
    expect(text).toContain('phabmon_pushes_verified_total{repository="mozilla-central",callsign="MOZILLACENTRAL"} 0');
    expect(text).toContain('phabmon_check_failures_total{repository="integration/autoland",reason="unknown_repository"} 0');
    expect(text).toContain("phabmon_pulse_connected 0");
    expect(text).toContain('phabmon_upstream_request_failures_total{service="phabricator"} 0');
  });
});

describe("the status collectors", () => {
  it("export each repository's status and the push id that holds the lag from /status's section, and queue ownership, with no series for a missing queue", async () => {
    const registry = new Registry();
    const entry = (over: Partial<RepositoryStatusEntry>): RepositoryStatusEntry => ({
      repository: "mozilla-central",
      callsign: "MOZILLACENTRAL",
      status: "ok",
      reason: null,
      lagSeconds: 0,
      oldestUnverified: null,
      blockedChecks: 0,
      pending: 0,
      lastCheck: null,
      lastSuccess: null,
      lastError: null,
      lastPushReceived: null,
      history: [],
      historySince: null,
      ...over,
    });
    const section = [
      entry({
        repository: "integration/autoland",
        callsign: "AUTOLAND",
        status: "lagging",
        reason: "…",
        lagSeconds: 600,
        oldestUnverified: { pushId: 42, pushTime: "", user: "u", missingNode: "a".repeat(40), missingCommits: 2 },
        blockedChecks: 1,
        pending: 1,
      }),
      entry({}),
    ];
    registerReplicationCollectors(registry, {
      repositories: [],
      states: () => new Map(),
      section: () => section,
      connected: () => true,
      staleAfterMs: STALE_AFTER_MS,
      now: Date.now,
    });
    const readings = new Map([
      ["queue/u/q", { kind: "ok" as const, messages: 1, consumers: 0 }],
      ["queue/other/watched", { kind: "ok" as const, messages: 5, consumers: 1 }],
      ["queue/other/gone", { kind: "missing" as const }],
    ]);
    registerQueueOwnership(registry, { readings: () => readings, own: ["queue/u/q"] });
    const text = await registry.metrics();
    expect(text).toContain('phabmon_repository_status{repository="integration/autoland",callsign="AUTOLAND",status="lagging"} 1');
    expect(text).toContain('phabmon_repository_status{repository="integration/autoland",callsign="AUTOLAND",status="ok"} 0');
    expect(text).toContain('phabmon_repository_status{repository="mozilla-central",callsign="MOZILLACENTRAL",status="ok"} 1');
    expect(text).toContain('phabmon_oldest_unverified_push_id{repository="integration/autoland",callsign="AUTOLAND"} 42');
    expect(text).not.toContain('phabmon_oldest_unverified_push_id{repository="mozilla-central"');
    expect(text).toContain('phabmon_oldest_unverified_push_missing_commits{repository="integration/autoland",callsign="AUTOLAND"} 2');
    // One series per repository whatever the push: no push id or node as a label.
    expect(text).not.toMatch(/push_id=|missing_node=/);
    expect(text).toContain('phabmon_queue_owned{queue="queue/u/q"} 1');
    expect(text).toContain('phabmon_queue_owned{queue="queue/other/watched"} 0');
    expect(text).not.toContain("queue/other/gone");
  });
});
