// The broker stops and starts again (rabbitmqctl stop_app / start_app), and connections are cut in
// the middle of a check: the service stays up, says it does not know, reconnects by itself and loses
// nothing. These tests stop the shared local broker, so they must run alone (vitest runs files one at
// a time here).
import { afterEach, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { brokerctl } from "./support/broker.ts";
import type { StartedService } from "./support/harness.ts";
import { scrapeSample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

const rabbitmqctl = brokerctl;

afterEach(() => {
  // Whatever happened in the test, leave a running broker for the next one.
  rabbitmqctl("start_app");
  rabbitmqctl("await_startup");
});

const metric = (svc: StartedService, series: string) => scrapeSample(svc.url, series);

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const LAG = `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`;

it("broker stopped and started: stays up, reports unknown instead of 0, reconnects with backoff, loses nothing", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const t = Math.floor(Date.now() / 1000) - 120;
  await h.push(AUTOLAND, 1, t);
  const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
  await svc.waitForLog("check done");
  expect(await metric(svc, LAG)).toBe("0");

  rabbitmqctl("stop_app");
  await until("phabmon_pulse_connected 0", async () => (await metric(svc, "phabmon_pulse_connected")) === "0");
  expect((await metric(svc, LAG))?.toLowerCase()).toBe("nan");
  expect((await fetch(`${svc.url}/__lbheartbeat__`)).status).toBe(200);
  expect((await fetch(`${svc.url}/__heartbeat__`)).status).toBe(503);
  await svc.waitForLog("check failed: cannot read the queue");

  rabbitmqctl("start_app");
  rabbitmqctl("await_startup");
  await h.broker.reconnect();
  await h.push(AUTOLAND, 2, t + 60);
  await h.push(AUTOLAND, 3, t + 61, { mirrored: false });

  const reconnected = await svc.waitForLog("connected to pulse", 2);
  expect(reconnected.reconnected).toBe(true);
  // Every wait before an attempt: after a failed attempt, or after a connection that was lost before it had
  // been up a minute (STABLE_CONNECTION_MS; this one was up seconds).
  const waits = ["pulse connection failed", "pulse connection closed; reconnecting"];
  const retries = svc.logs
    .filter((l) => waits.includes(l.msg as string) && (l.failuresInARow as number) > 0)
    .map((l) => ({ ms: l.retryInMs as number, n: l.failuresInARow as number }));
  expect(retries.length).toBeGreaterThan(0);
  // Backoff: after the n-th failure in a row the wait is within ±20 % of 1 s × 2^(n-1) (capped at 60 s),
  // the count growing by one each time.
  retries.forEach(({ ms, n }, i) => {
    const base = Math.min(60_000, 1000 * 2 ** (n - 1));
    expect(ms).toBeGreaterThanOrEqual(base * 0.8);
    expect(ms).toBeLessThanOrEqual(base * 1.2);
    if (i > 0) expect(n).toBe((retries[i - 1] as { n: number }).n + 1);
  });
  await until("a check after the restart", () =>
    Promise.resolve(svc.logs.some((l) => l.msg === "check done" && l.verified === 1 && l.stoppedAt !== undefined)),
  );
  expect(Number(await metric(svc, LAG))).toBeGreaterThanOrEqual(59);
  expect(Number(await metric(svc, "phabmon_pulse_reconnects_total"))).toBeGreaterThanOrEqual(1);
  expect(await metric(svc, "phabmon_pulse_connected")).toBe("1");

  svc.signal("SIGTERM");
  expect((await svc.finished).code).toBe(0);
  // Push 2 was verified; push 3 (unmirrored) is still there.
  expect(await h.broker.depth()).toBe(1);
}, 90_000);

it("connection cut in the middle of a check: the check fails, the broker keeps every message, the next check verifies them", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, latencyMs: 400 });
  await h.backlog(AUTOLAND, 1, 600, Math.floor(Date.now() / 1000) - 600);
  const svc = await h.start([], { CHECK_SCHEDULE: "*/5 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "2" });
  await svc.waitForLog("checked a range of pushes");
  rabbitmqctl("close_all_connections", "cut by the test");
  await h.broker.reconnect();

  const failed = await svc.waitForLog("check failed");
  expect(String(failed.error)).toMatch(/the broker did not take the acks/);
  // The broker put back what the dead channel held; the next check takes and verifies all of it.
  const done = await svc.waitForLog("check done");
  expect(done).toMatchObject({ verified: 600, pending: 0, lagSeconds: 0 });

  svc.signal("SIGTERM");
  expect((await svc.finished).code).toBe(0);
  expect(await h.broker.depth()).toBe(0);
}, 90_000);
