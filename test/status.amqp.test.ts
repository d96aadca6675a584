// GET /status, the page at / and their metrics, from the real service (its own process, the tests'
// broker, the local stand-ins): a repository whose mirror has everything and one that lags.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { sampleIn } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const CENTRAL = "mozilla-central";
const TOKEN = "metrics-token-for-status";
const harness = harnessPerTest();

describe("GET /status and GET / (service)", () => {
  it("says which repository lags and why, behind the metrics token, and exports the same as metrics", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`, `${CENTRAL}=MOZILLACENTRAL`], token: true });
    const t = Math.floor(Date.now() / 1000);
    await h.push(AUTOLAND, 1, t - 120);
    await h.push(CENTRAL, 1, t - 3600);
    await h.push(CENTRAL, 2, t - 1500, { mirrored: false });
    const svc = await h.start([], { METRICS_TOKEN: TOKEN, NO_INPUT_HOURS: "6,mozilla-central=48" });
    await svc.waitForLog("waiting for the next check");

    expect((await fetch(`${svc.url}/status`)).status).toBe(401);
    const page401 = await fetch(`${svc.url}/`);
    expect(page401.status).toBe(401);
    expect(page401.headers.get("www-authenticate")).toMatch(/^Basic /);
    const basic = `Basic ${Buffer.from(`oncall:${TOKEN}`).toString("base64")}`;
    expect((await fetch(`${svc.url}/`, { headers: { authorization: `Basic ${Buffer.from("oncall:wrong").toString("base64")}` } })).status).toBe(401);

    const res = await fetch(`${svc.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as {
      repositories: Array<Record<string, unknown>>;
      pipeline: unknown;
      queues: Array<Record<string, unknown>>;
      pulse: unknown;
    };
    expect(body.pulse).toEqual({ connected: true });
    const [autoland, central] = body.repositories;
    expect(autoland).toMatchObject({
      repository: AUTOLAND,
      callsign: "AUTOLAND",
      status: "ok",
      reason: null,
      lagSeconds: 0,
      oldestUnverified: null,
      pending: 0,
      lastError: null,
    });
    expect(autoland?.lastPushReceived).toEqual(autoland?.lastCheck);
    expect(central).toMatchObject({
      repository: CENTRAL,
      callsign: "MOZILLACENTRAL",
      status: "lagging",
      oldestUnverified: {
        pushId: 2,
        pushTime: new Date((t - 1500) * 1000).toISOString(),
        user: expect.any(String),
        missingNode: expect.stringMatching(/^[0-9a-f]{40}$/),
        missingCommits: expect.any(Number),
      },
      pending: 1,
      blockedChecks: 1,
    });
    expect(central?.lagSeconds).toBeGreaterThanOrEqual(1500);
    expect(central?.reason).toMatch(/^push 2 is not fully mirrored after 25 min/);
    // The last day: one point for the one check, its lag as it concluded; since this process started.
    expect(autoland?.history).toEqual([{ at: autoland?.lastCheck, lagSeconds: 0 }]);
    expect(central?.history).toEqual([{ at: central?.lastCheck, lagSeconds: expect.any(Number) }]);
    expect((central?.history as Array<{ lagSeconds: number }>)[0]?.lagSeconds).toBeGreaterThanOrEqual(1500);
    expect(Date.parse(central?.historySince as string)).toBeLessThan(Date.parse(central?.lastCheck as string));
    expect(body.pipeline).toBeNull();
    expect(body.queues).toContainEqual({ queue: h.broker.queue, owner: "service", state: "ok", messages: 1, consumers: expect.any(Number) });

    const html = await (await fetch(`${svc.url}/`, { headers: { authorization: basic } })).text();
    expect(html).toContain('data-repository="mozilla-central" data-status="lagging"');
    expect(html).toContain(">LAGGING</span> mozilla-central");
    // Each card draws its last day, here the one check's dot, since this process started.
    expect(html.match(/<svg class="lag-chart"/g)).toHaveLength(2);
    expect(html).toContain('<circle class="current"');

    const metrics = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: basic } })).text();
    const labels = (repo: string, callsign: string, extra = "") => `{repository="${repo}",callsign="${callsign}"${extra}}`;
    expect(sampleIn(metrics, `phabmon_repository_status${labels(CENTRAL, "MOZILLACENTRAL", ',status="lagging"')}`)).toBe(1);
    expect(sampleIn(metrics, `phabmon_repository_status${labels(CENTRAL, "MOZILLACENTRAL", ',status="ok"')}`)).toBe(0);
    expect(sampleIn(metrics, `phabmon_repository_status${labels(AUTOLAND, "AUTOLAND", ',status="ok"')}`)).toBe(1);
    expect(sampleIn(metrics, `phabmon_oldest_unverified_push_id${labels(CENTRAL, "MOZILLACENTRAL")}`)).toBe(2);
    // None holds autoland's lag: no series, rather than a made-up id.
    expect(sampleIn(metrics, `phabmon_oldest_unverified_push_id${labels(AUTOLAND, "AUTOLAND")}`)).toBeUndefined();
    expect(sampleIn(metrics, `phabmon_oldest_unverified_push_missing_commits${labels(CENTRAL, "MOZILLACENTRAL")}`)).toBeGreaterThanOrEqual(1);
    expect(metrics).not.toMatch(/phabmon_oldest_unverified_push_missing_commits\{repository="integration\/autoland"/);
    expect(sampleIn(metrics, `phabmon_queue_owned{queue="${h.broker.queue}"}`)).toBe(1);
    expect(metrics).not.toContain(TOKEN);

    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });
});
