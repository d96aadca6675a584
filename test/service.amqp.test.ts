// The long-running service (in-process, real broker, local fakes): its HTTP endpoints and metrics.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { sampleIn } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

function sample(text: string, series: string): number {
  const value = sampleIn(text, series);
  if (value === undefined) throw new Error(`no ${series} in:\n${text}`);
  return value;
}

describe("report-lag (service)", () => {
  it("serves the lag, the pipeline counters and the heartbeats after its first check, and stops cleanly", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = Math.floor(Date.now() / 1000) - 3600;
    await h.push(AUTOLAND, 1, t - 60);
    await h.push(AUTOLAND, 2, t, { mirrored: false });
    const svc = await h.start([], { METRICS_TOKEN: "metrics-token-for-tests" });
    await svc.waitForLog("check done");
    // It says it runs until stopped, and when it checks next (the harness's schedule: 1 January, 00:00).
    expect(svc.logs.some((l) => l.msg === "running until SIGTERM or Ctrl-C: a check now, then on CHECK_SCHEDULE")).toBe(true);
    const waiting = await svc.waitForLog("waiting for the next check");
    expect(waiting.nextCheck).toMatch(/^\d{4}-01-01T\d{2}:00:00\.000Z$/);

    const unauthorized = await fetch(`${svc.url}/metrics`);
    expect(unauthorized.status).toBe(401);
    expect((await fetch(`${svc.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const res = await fetch(`${svc.url}/metrics`, { headers: { authorization: "Bearer metrics-token-for-tests" } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const labels = `{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`;
    const lag = sample(text, `phabmon_replication_lag_seconds${labels}`);
    expect(lag).toBeGreaterThanOrEqual(3600);
    expect(lag).toBeLessThan(3630);
    expect(sample(text, `phabmon_pending_pushes${labels}`)).toBe(1);
    expect(sample(text, `phabmon_pushes_verified_total${labels}`)).toBe(1);
    expect(sample(text, `phabmon_replication_delay_seconds_count${labels}`)).toBe(1);
    expect(sample(text, `phabmon_checks_total{repository="${AUTOLAND}"}`)).toBe(1);
    expect(sample(text, `phabmon_check_failures_total{repository="${AUTOLAND}",reason="pushlog"}`)).toBe(0);
    expect(sample(text, "phabmon_pulse_connected")).toBe(1);
    expect(sample(text, `phabmon_queue_messages{queue="${h.broker.queue}"}`)).toBe(1);
    expect(sample(text, `phabmon_messages_received_total{repository="${AUTOLAND}"}`)).toBe(2);
    // The callsign's repository PHID, then one diffusion.commit.search.
    expect(sample(text, `phabmon_upstream_request_duration_seconds_count{service="phabricator"}`)).toBe(2);
    expect(Math.abs(sample(text, `phabmon_last_check_success_timestamp_seconds{repository="${AUTOLAND}"}`) - Date.now() / 1000)).toBeLessThan(30);
    expect(text).toMatch(/^phabmon_build_info\{version="0\.1\.0",commit="[^"]+"\} 1$/m);
    expect(text).toContain("process_resident_memory_bytes");
    expect(text).not.toContain("metrics-token-for-tests");

    expect((await fetch(`${svc.url}/__lbheartbeat__`)).status).toBe(200);
    const heartbeat = await fetch(`${svc.url}/__heartbeat__`);
    expect(heartbeat.status).toBe(200);
    // Without credentials a status word and a boolean per check; the details with the metrics token.
    expect(await heartbeat.json()).toEqual({ status: "ok", checks: { pulse: true, replication: true } });
    const detailed = await fetch(`${svc.url}/__heartbeat__`, { headers: { authorization: "Bearer metrics-token-for-tests" } });
    expect(await detailed.json()).toMatchObject({ status: "ok", pulse: { connected: true }, checks: { [AUTOLAND]: { healthy: true } } });
    expect(await (await fetch(`${svc.url}/__version__`)).json()).toEqual({
      source: expect.any(String),
      version: "0.1.0",
      commit: expect.any(String),
      build: "local",
    });
    expect((await fetch(`${svc.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${svc.url}/metrics`, { method: "POST" })).status).toBe(405);

    svc.signal("SIGTERM");
    const finished = await svc.finished;
    expect(finished.code).toBe(0);
    await expect(fetch(`${svc.url}/__lbheartbeat__`)).rejects.toThrow();
    expect(await h.broker.depth()).toBe(1);
  });

  it("answers 503 on /__heartbeat__ and reports no lag (NaN) when its first check failed", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
    h.hg.fault = "500";
    const svc = await h.start([], { UPSTREAM_TIMEOUT_SECONDS: "1", METRICS_TOKEN: "metrics-token-for-tests" });
    await svc.waitForLog("check failed");

    const heartbeat = await fetch(`${svc.url}/__heartbeat__`, { headers: { authorization: "Bearer metrics-token-for-tests" } });
    expect(heartbeat.status).toBe(503);
    expect(await heartbeat.json()).toMatchObject({
      status: "error",
      pulse: { connected: true },
      checks: { [AUTOLAND]: { healthy: false, lastSuccess: null } },
      // The scheduler's view: one failed run so far, not yet a streak (3).
      runs: { replication: { consecutiveFailures: 1, failing: false, lastRunOk: false, timedOut: 0 } },
    });
    const text = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: "Bearer metrics-token-for-tests" } })).text();
    // prom-client writes NaN as "Nan"; Prometheus parses either spelling.
    expect(text).toMatch(/^phabmon_replication_lag_seconds\{repository="integration\/autoland",callsign="MOZILLACENTRAL"\} nan$/im);
    expect(sample(text, `phabmon_check_failures_total{repository="${AUTOLAND}",reason="pushlog"}`)).toBe(1);
    expect(sample(text, `phabmon_upstream_request_failures_total{service="hgmo"}`)).toBe(1);

    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
    expect(await h.broker.depth()).toBe(1);
  });
});
