// The status page in a real headless Chromium (Debian's, driven by playwright-core): a lagging
// repository and a stalled one, as a person on a phone sees them, behind the metrics token asked for
// as a Basic-auth password. The screenshot is kept in artifacts/ for CI.
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { Registry } from "prom-client";
import { createHttpServer } from "../../src/http/server.ts";
import { INITIAL_STATE, stateAfterCheck, type RepositoryState } from "../../src/run/lag.ts";
import { repositoriesSection } from "../../src/replication/status.ts";
import { pipelineSection } from "../../src/review/status.ts";
import { EMPTY_BOOK, describeReviews, trackTryPushes } from "../../src/review/reviews.ts";
import { documentOf } from "../support/status.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "metrics-token-for-the-page";
const MIN = 60_000;
const NOW = Date.now();
const NODE = "3f5a0c2e9b8d7f6a5e4d3c2b1a0f9e8d7c6b5a41";

/** Checks every 5 minutes up to NOW; the push `blocker(i)` is the oldest unverified at check i. */
function checks(count: number, blocker: (i: number) => number, pushedMinutesAgo: number): RepositoryState {
  let state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: NOW - (count + 1) * 5 * MIN, receivedNew: true });
  for (let i = 0; i < count; i++) {
    const pushId = blocker(i);
    const push = { repository: "r", pushId, pushTime: Math.floor(NOW / 1000) - pushedMinutesAgo * 60, user: "reviewbot@mozilla.com" };
    state = stateAfterCheck(state, { ok: true, unverified: [push], atMs: NOW - (count - 1 - i) * 5 * MIN, missing: { pushId, node: NODE, count: 2 } });
  }
  return state;
}

/** Three reviews in flight: two for over 2 h (one whose bot commit named no revision), one for 20 min. */
function reviewsInFlight() {
  const now = Math.floor(NOW / 1000);
  const inFlight = [
    { diffPHID: "PHID-DIFF-7h2kq4wz3xmfbn5ralpe", revisionId: 231458, targetPHID: "PHID-HMBT-1", push: { pushId: 98811, pushTime: now - 8000, node: NODE } },
    { diffPHID: "PHID-DIFF-c3v9yt6dujg2sxw8nqho", targetPHID: "PHID-HMBT-2", push: { pushId: 98870, pushTime: now - 7300, node: NODE } },
    { diffPHID: "PHID-DIFF-p0ai5el4rk7mzs1tbfcw", revisionId: 231902, targetPHID: "PHID-HMBT-3", push: { pushId: 99001, pushTime: now - 600, node: NODE } },
  ];
  const created = new Map([
    ["PHID-DIFF-7h2kq4wz3xmfbn5ralpe", now - 8100],
    ["PHID-DIFF-c3v9yt6dujg2sxw8nqho", now - 7500],
    ["PHID-DIFF-p0ai5el4rk7mzs1tbfcw", now - 1200],
  ]);
  return describeReviews(trackTryPushes(EMPTY_BOOK, inFlight, NOW - 5 * MIN).book, { created });
}

const POLICY = { staleAfterMs: 15 * MIN, stalledAfterChecks: 6, noInputAfterMs: 6 * 60 * MIN };
const doc = () =>
  documentOf(
    {
      repositories: repositoriesSection(
        [
          { path: "integration/autoland", callsign: "AUTOLAND" },
          { path: "mozilla-central", callsign: "MOZILLACENTRAL" },
        ],
        new Map([
          // A new push holds the lag at each check: behind, but moving.
          ["integration/autoland", checks(3, (i) => 1200 + i, 12)],
          // The same push for seven checks: stuck.
          ["mozilla-central", checks(7, () => 5711, 130)],
        ]),
        NOW,
        POLICY,
        { connected: true, startedAt: NOW - 3 * 60 * MIN },
      ),
      pipeline: pipelineSection(
        {
          book: reviewsInFlight(),
          whole: true,
          polledAt: NOW - MIN,
          lastCodeReviewPush: { pushId: 99001, pushTime: Math.floor(NOW / 1000) - 600 },
          lastCheckAt: NOW - MIN,
          lastSuccessAt: NOW - MIN,
        },
        NOW,
        POLICY.staleAfterMs,
      ),
    },
    [{ queue: "queue/phabmon/monitor", owner: "service", reading: { kind: "ok", messages: 14, consumers: 1 } }],
    NOW,
  );

let browser: Browser;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const server = createHttpServer({
    registry: new Registry(),
    metricsTokens: [TOKEN],
    health: () => ({ healthy: true, summary: { status: "ok", checks: {} }, body: {} }),
    version: { source: "", version: "0.1.0", commit: "test", build: "local" },
    status: doc,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
});

describe("the status page in Chromium", () => {
  it("asks for the token: without it, or with a wrong one, the browser gets a Basic challenge and no page", async () => {
    const context = await browser.newContext();
    const response = await context.request.get(url);
    expect(response.status()).toBe(401);
    expect(response.headers()["www-authenticate"]).toMatch(/^Basic realm="phabricator-repo-monitor"/);
    expect(await response.text()).not.toContain("mozilla-central");
    await context.close();
    const wrong = await browser.newContext({ httpCredentials: { username: "oncall", password: "not-the-token" } });
    const page = await wrong.newPage();
    expect((await page.goto(url))?.status()).toBe(401);
    expect(await page.locator("body").innerText()).not.toContain("mozilla-central");
    await wrong.close();
  });

  it("shows a lagging and a stalled repository as a person reads them on a phone, and keeps a screenshot", async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      httpCredentials: { username: "oncall", password: TOKEN },
    });
    const page = await context.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("2 not OK · phabricator-repo-monitor");

    const autoland = page.locator('[data-repository="integration/autoland"]');
    const autolandText = await autoland.innerText();
    expect(autolandText).toContain("LAGGING");
    expect((await autoland.locator("h3").innerText()).replace(/\s+/g, " ")).toBe("LAGGING integration/autoland (AUTOLAND)");
    expect(autolandText).toContain("12 min behind");
    expect(autolandText).toContain("push 1202 is not fully mirrored after 12 min; 3f5a0c2e9b8d is not in the mirror");

    const central = page.locator('[data-repository="mozilla-central"]');
    const centralText = await central.innerText();
    expect(centralText).toContain("STALLED");
    expect(centralText).toContain("2 h 10 min behind");
    expect(centralText).toContain("push 5711 has held the lag for 7 checks in a row");
    expect(centralText).toContain("push 5711 by reviewbot@mozilla.com");
    expect(centralText).toContain(`${NODE} (2 commits missing)`);

    // The badge is a word, and its colour differs between the two.
    const colour = (repository: string) =>
      page.evaluate<string>(`getComputedStyle(document.querySelector('[data-repository="${repository}"] .badge')).backgroundColor`);
    expect(await colour("integration/autoland")).not.toBe(await colour("mozilla-central"));
    expect(await page.locator("#pipeline").innerText()).toContain("push 99001");
    const stuck = await page.locator("#stuck").innerText();
    expect(stuck).toContain("In flight for over 2 h: 2");
    expect(stuck).toMatch(/D231458\s+PHID-DIFF-7h2kq4wz3xmfbn5ralpe\s+98811\s+2 h 15 min/);
    expect(stuck).toMatch(/unknown\s+PHID-DIFF-c3v9yt6dujg2sxw8nqho\s+98870\s+2 h 5 min/);
    expect(stuck).not.toContain("231902");
    expect(await page.locator("#queues").innerText()).toContain("queue/phabmon/monitor");

    // Readable on a phone: nothing wider than the screen.
    // Run in the page (a string: the tests are compiled without the DOM's types).
    const overflow = await page.evaluate<string[]>(
      `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth).map((e) => e.tagName + ": " + e.textContent.slice(0, 40))`,
    );
    expect(overflow).toEqual([]);

    mkdirSync("artifacts", { recursive: true });
    await page.screenshot({ path: "artifacts/status-page.png", fullPage: true });
    await context.close();
  });

  it("serves the same facts as JSON at /status with the same credentials", async () => {
    const context = await browser.newContext({ httpCredentials: { username: "any", password: TOKEN } });
    const response = await context.request.get(`${url}status`);
    expect(response.status()).toBe(200);
    const body = (await response.json()) as { repositories: Array<{ repository: string; status: string }> };
    expect(body.repositories.map((r) => [r.repository, r.status])).toEqual([
      ["integration/autoland", "lagging"],
      ["mozilla-central", "stalled"],
    ]);
    await context.close();
  });
});
