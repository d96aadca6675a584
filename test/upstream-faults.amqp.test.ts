// hg.mozilla.org and Phabricator failing in every way we know: the check is marked failed within a
// bounded time, the message stays queued, and the lag is never reported as 0.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import type { Harness } from "./support/harness.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

/** A loopback port that refuses connections: bound, then closed. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

type Case = {
  name: string;
  token: boolean;
  /** Sets up the fault; returns extra environment. */
  inject: (h: Harness) => Promise<Record<string, string>> | Record<string, string>;
  error: RegExp;
  /** Requests the faulty side saw: 1 + 2 retries where retrying makes sense. */
  attempts?: { side: "hg" | "phab"; count: number };
};

const cases: Case[] = [
  { name: "hg answers 500", token: true, inject: (h) => ((h.hg.fault = "500"), {}), error: /json-pushes: HTTP 500/, attempts: { side: "hg", count: 3 } },
  { name: "hg refuses connections", token: true, inject: async (h) => (await h.hg.close(), {}), error: /json-pushes: ECONNREFUSED after 3 attempts/ },
  {
    name: "hg never answers",
    token: true,
    inject: (h) => ((h.hg.fault = "hang"), {}),
    error: /json-pushes: UND_ERR_HEADERS_TIMEOUT after 3 attempts/,
    attempts: { side: "hg", count: 3 },
  },
  {
    name: "hg's body never ends",
    token: true,
    inject: (h) => ((h.hg.fault = "stall"), {}),
    error: /json-pushes: the body did not arrive whole \(UND_ERR_BODY_TIMEOUT\)/,
  },
  {
    name: "hg's JSON is cut short",
    token: true,
    inject: (h) => ((h.hg.fault = "truncate"), {}),
    error: /json-pushes: HTTP 200, content type application\/json, \d+ bytes, not JSON/,
  },
  {
    name: "Conduit answers 500",
    token: true,
    inject: (h) => ((h.phab.fault = "500"), {}),
    error: /POST \/api\/diffusion\.repository\.search: HTTP 500/,
    attempts: { side: "phab", count: 3 },
  },
  { name: "Conduit never answers", token: true, inject: (h) => ((h.phab.fault = "hang"), {}), error: /UND_ERR_HEADERS_TIMEOUT after 3 attempts/ },
  { name: "Conduit's body never ends", token: true, inject: (h) => ((h.phab.fault = "stall"), {}), error: /the body did not arrive whole/ },
  {
    name: "Phabricator refuses connections",
    token: true,
    inject: async () => ({ PHABRICATOR_URL: await refusedUrl() }),
    error: /ECONNREFUSED after 3 attempts/,
  },
  {
    name: "a Conduit error envelope",
    token: true,
    inject: (h) => ((h.phab.fault = "conduit-error"), {}),
    error: /diffusion\.repository\.search: ERR-CONDUIT-CORE \(Query .* overheated\.\)/,
  },
  { name: "a refused Conduit token", token: true, inject: () => ({ PHABRICATOR_API_TOKEN: "api-refusedrefusedrefusedrefuse" }), error: /ERR-INVALID-AUTH/ },
  {
    name: "commit pages answer 500 (no token)",
    token: false,
    inject: (h) => ((h.phab.fault = "500"), {}),
    error: /GET \/diffusion\/MOZILLACENTRAL\/: HTTP 500/,
  },
];

describe("report-lag --once under upstream faults", () => {
  it.each(cases)(
    "$name: fails in bounded time, keeps the message, reports no lag",
    async ({ token, inject, error, attempts }) => {
      const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token });
      await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
      const env = await inject(h);

      const started = performance.now();
      const result = await h.run(["--once"], { UPSTREAM_TIMEOUT_SECONDS: "1", ...env });
      const seconds = (performance.now() - started) / 1000;

      expect(result.code).toBe(1);
      const line = result.stdout.split("\n").find((l) => l.startsWith(AUTOLAND)) ?? "";
      expect(line).toMatch(/replication lag \(seconds\): unknown/);
      expect(line).toMatch(error);
      // Three attempts of at most 1 s each, with back-offs of 0.25 and 0.5 s.
      expect(seconds).toBeLessThan(6);
      expect(await h.broker.depth()).toBe(1);
      if (attempts) {
        const seen = attempts.side === "hg" ? h.hg.requests.length : h.phab.requests.length;
        expect(seen).toBe(attempts.count);
      }
      expect(JSON.stringify(result.logs)).not.toContain(h.phab.token);
    },
    20_000,
  );
});

describe("report-lag (service) under upstream faults", () => {
  it("does not keep a lag of 0 when the next check fails on a new push, and returns to 0 when hg recovers", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
    const lag = async () => {
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      return /^phabmon_replication_lag_seconds\{repository="integration\/autoland",callsign="MOZILLACENTRAL"\} (\S+)$/m.exec(text)?.[1];
    };
    await svc.waitForLog("check done");
    expect(await lag()).toBe("0");

    h.hg.fault = "500";
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
    await svc.waitForLog("check failed");
    // The push is known and unverified: its age is the lag, whatever hg says.
    expect(Number(await lag())).toBeGreaterThanOrEqual(60);
    expect((await fetch(`${svc.url}/__heartbeat__`)).status).toBe(200); // one failure is within three intervals

    h.hg.fault = "none";
    const done = svc.logs.filter((l) => l.msg === "check done").length;
    await svc.waitForLog("check done", done + 1);
    expect(await lag()).toBe("0");
    expect(await h.broker.depth()).toBe(0);

    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  }, 30_000);
});
