// Never a healthy number by mistake: a misspelt variable stops start-up, and messages the check
// cannot use for a monitored repository make its lag unknown, with the cause named, instead of 0.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { changegroupV2 } from "./support/hgpush.ts";
import { startFakePhabricator } from "./support/fake-phabricator.ts";
import { createUpstream } from "../src/upstream/upstream.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("truth under misconfiguration", () => {
  it("HG_ULR= instead of HG_URL= stops start-up with exit 2 and takes nothing off the queue", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowSeconds() - 600, { mirrored: false });
    for (const argv of [["--once"], ["--check-config"]]) {
      const result = await h.run(argv, { HG_URL: undefined, HG_ULR: h.env.HG_URL });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^configuration error: HG_ULR: not a variable of this service; did you mean HG_URL\? \(unset HG_ULR if it is meant for something else\)\nnote: read from the environment only; there is no \/\S+\/\.env \(copy \.env\.example there to start one\)\n$/,
      );
      expect(result.stdout).toBe("");
    }
    expect(await h.broker.depth()).toBe(1);
  });

  it("messages naming a host other than HG_URL make the lag unknown, naming both, in the line and on /status", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.broker.publish(AUTOLAND, changegroupV2("https://hg.example.org", AUTOLAND, [{ pushId: 1, time: nowSeconds() - 600 }]));

    const once = await h.run(["--once", "--no-send"]);
    expect(once.code).toBe(1);
    expect(once.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): unknown`);
    expect(once.stdout).toContain(`messages for ${AUTOLAND} name https://hg.example.org, but HG_URL is ${h.hg.url}`);

    const svc = await h.start([]);
    await svc.waitForLog("check failed");
    const status = (await (await fetch(`${svc.url}/status`)).json()) as { repositories: Array<{ lastError: string | null }> };
    expect(status.repositories[0]?.lastError).toBe(`messages for ${AUTOLAND} name https://hg.example.org, but HG_URL is ${h.hg.url}`);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^phabmon_replication_lag_seconds\\{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"\\} Nan$`, "m")); // prom-client writes NaN as Nan
    svc.signal();
    await svc.finished;
  });

  it("a check in which every message for a repository was set aside reports it unknown, not 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    // A schema change: the pushes moved under another key.
    await h.broker.publish(AUTOLAND, { payload: { type: "changegroup.1", data: { repo_url: `${h.hg.url}/${AUTOLAND}`, heads: [], pushes: [] } } });
    const result = await h.run(["--once"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("replication lag (seconds): unknown");
    expect(result.stdout).toContain(`every message for ${AUTOLAND} in this check was set aside (1 schema)`);
  });
});

describe("throttling", () => {
  it.each([
    { what: "429 with Retry-After: 2", throttle: { status: 429 as const, retryAfterS: 2, times: 1 }, waitS: 2 },
    { what: "a proxy's 502 HTML page", throttle: { status: 502 as const, times: 2 }, waitS: 0.25 },
  ])("$what is retried, honouring the wait, and never read as not mirrored or as 0", async ({ throttle, waitS }) => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowSeconds() - 600);
    const stamps: number[] = [];
    const original = h.phab.requests.push.bind(h.phab.requests);
    h.phab.requests.push = (...items) => {
      stamps.push(performance.now());
      return original(...items);
    };
    h.phab.throttle = throttle;

    const result = await h.run(["--once"], { UPSTREAM_TIMEOUT_SECONDS: "5" });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(await h.broker.depth()).toBe(0);
    // The throttled request and its retry: asked again no sooner than told.
    const gap = ((stamps[1] ?? 0) - (stamps[0] ?? 0)) / 1000;
    expect(gap).toBeGreaterThanOrEqual(waitS * 0.95);
  });
});

it("counts each throttled or proxy-failed attempt, by status, though the request then succeeds", async () => {
  const phab = await startFakePhabricator();
  const seen: number[] = [];
  const upstream = createUpstream({ service: "phabricator", baseUrl: phab.url, timeoutMs: 5000, onRetryableStatus: (_s, status) => seen.push(status) });
  try {
    phab.addRepository("MOZILLACENTRAL");
    phab.throttle = { status: 429, retryAfterS: 1, times: 1 };
    expect((await upstream.request({ method: "HEAD", path: "/diffusion/MOZILLACENTRAL/" })).status).toBe(200);
    phab.throttle = { status: 502, times: 2 };
    expect((await upstream.request({ method: "HEAD", path: "/diffusion/MOZILLACENTRAL/" })).status).toBe(200);
    expect(seen).toEqual([429, 502, 502]);
  } finally {
    await upstream.close();
    await phab.close();
  }
});
