// The status page in a real headless Chromium (Debian's, driven by playwright-core): a lagging
// repository and a stalled one, with their last day's lag, as a person on a phone and at a desk sees
// them, behind the metrics token asked for as a Basic-auth password. The screenshots are kept in
// artifacts/ for CI (status-page.png, status-page-desktop.png, status-page-restart.png).
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { Registry } from "prom-client";
import { createHttpServer } from "../../src/http/server.ts";
import { INITIAL_STATE, stateAfterCheck, type RepositoryState } from "../../src/run/lag.ts";
import { repositoriesSection } from "../../src/replication/status.ts";
import { pipelineSection } from "../../src/review/status.ts";
import { EMPTY_BOOK, describeReviews, trackTryPushes } from "../../src/review/reviews.ts";
import { syncSection } from "../../src/git-sync/status.ts";
import { NEW_BRANCH } from "../../src/git-sync/branch-sync.ts";
import type { LagHistory } from "../../src/run/lag-history.ts";
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

/** A check every 5 min over the last `hours` up to NOW, with lag `lag(i)` (i = 0 the oldest). */
function lastChecks(hours: number, lag: (i: number, count: number) => number | null): LagHistory {
  const count = (hours * 60) / 5;
  return Array.from({ length: count }, (_, i) => ({ atMs: NOW - (count - 1 - i) * 5 * MIN, lagSeconds: lag(i, count) }));
}

/**
 * The last day as the page draws it: autoland's lag climbing steadily to its 12 min now, except an hour
 * whose checks failed (a gap); mozilla-central at 0 until its push stuck 2 h 10 min ago, then climbing.
 * After a restart 3 h ago, only those 3 h are known.
 */
function histories(hours: number): Map<string, LagHistory> {
  return new Map([
    ["integration/autoland", lastChecks(hours, (i, n) => (n - i > 150 && n - i <= 162 ? null : Math.round((720 * i) / (n - 1))))],
    ["mozilla-central", lastChecks(hours, (i, n) => Math.max(0, (i - (n - 27)) * 300))],
  ]);
}

/** The Git → hg sync of one branch: 4 min behind now, climbing over the last 20 min. */
function syncOf(hours: number, upHours: number) {
  const state = {
    ...INITIAL_STATE,
    lastSuccessAt: NOW,
    lastCheckAt: NOW,
    lastCheckOk: true,
    oldestUnverifiedPushTime: Math.floor(NOW / 1000) - 240,
    pendingPushes: 1,
  };
  const history = lastChecks(hours, (i, n) => (n - i <= 4 ? (4 - (n - i)) * 60 + 60 : 0));
  return syncSection([{ branch: "autoland", repository: "integration/autoland" }], new Map([["autoland", { ...NEW_BRANCH, state, history }]]), NOW, {
    staleAfterMs: 15 * MIN,
    connected: true,
    startedAt: NOW - upHours * 60 * MIN,
  });
}

/** What the page shows: a process up for more than a day, or one restarted 3 h ago. */
let scenario: "day" | "restart" = "day";

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
        { connected: true, startedAt: NOW - (scenario === "day" ? 30 : 3) * 60 * MIN },
        histories(scenario === "day" ? 24 : 3),
      ),
      sync: scenario === "day" ? syncOf(24, 30) : syncOf(3, 3),
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

/** Readable on the screen: nothing wider than it (run in the page: the tests are compiled without the DOM's types). */
async function expectNothingWider(page: Page, width: number): Promise<void> {
  expect(await page.evaluate<number>("window.innerWidth")).toBe(width);
  const overflow = await page.evaluate<string[]>(
    `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth).map((e) => e.tagName + ": " + e.textContent.slice(0, 40))`,
  );
  expect(overflow).toEqual([]);
}

/**
 * A card's chart as the browser laid it out: its line's stretches, whether the line climbs (read from
 * the polylines' own points: each y no larger than the one before it, the last well above the first,
 * SVG's y growing downwards), that the latest check's dot is its last point, and its accessible label.
 */
async function lineOf(page: Page, repository: string) {
  const chart = page.locator(`[data-repository="${repository}"] svg.lag-chart`);
  const stretches = await page.evaluate<Array<Array<[number, number]>>>(
    `[...document.querySelectorAll('[data-repository="${repository}"] svg.lag-chart polyline.lag-line')].map((l) =>
      Array.from({ length: l.points.numberOfItems }, (_, i) => [l.points.getItem(i).x, l.points.getItem(i).y]))`,
  );
  const all = stretches.flat();
  const ys = all.map(([, y]) => y);
  const xs = all.map(([x]) => x);
  const dot = { cx: Number(await chart.locator("circle.current").getAttribute("cx")), cy: Number(await chart.locator("circle.current").getAttribute("cy")) };
  const [lastX, lastY] = all.at(-1) ?? [Number.NaN, Number.NaN];
  expect(dot).toEqual({ cx: lastX, cy: lastY });
  expect(xs.every((x, i) => i === 0 || x > (xs[i - 1] as number))).toBe(true);
  const box = await chart.boundingBox();
  const card = await page.locator(`[data-repository="${repository}"]`).boundingBox();
  return {
    stretches: stretches.length,
    climbs: ys.length > 1 && ys.every((y, i) => i === 0 || y <= (ys[i - 1] as number)) && (ys.at(-1) as number) < (ys[0] as number) - 20,
    label: await chart.getAttribute("aria-label"),
    dotY: dot.cy,
    thresholdY: Number(await chart.locator("line.threshold").getAttribute("y1")),
    box: { width: box?.width ?? 0, right: (box?.x ?? 0) + (box?.width ?? 0) },
    card: { right: (card?.x ?? 0) + (card?.width ?? 0) },
  };
}

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

  it("shows a lagging and a stalled repository, and their last day climbing, as a person reads them on a phone, and keeps a screenshot", async () => {
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

    // The last day: each card's chart climbs to its latest check, marked with a dot.
    const chart = await lineOf(page, "integration/autoland");
    expect(chart.stretches).toBe(2);
    expect(chart.climbs).toBe(true);
    expect(chart.label).toBe("lag over the last 24 h: latest 12 min, highest 12 min; objective 10 min");
    const centralChart = await lineOf(page, "mozilla-central");
    expect(centralChart.climbs).toBe(true);
    expect(centralChart.label).toContain("latest 2 h 10 min");

    await expectNothingWider(page, 390);
    mkdirSync("artifacts", { recursive: true });
    await page.screenshot({ path: "artifacts/status-page.png", fullPage: true });
    await context.close();
  });

  it("draws the same charts at a desk: the climbing line fits the card, the threshold under the climb, and keeps a screenshot", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, httpCredentials: { username: "oncall", password: TOKEN } });
    const page = await context.newPage();
    expect((await page.goto(url))?.status()).toBe(200);
    for (const repository of ["integration/autoland", "mozilla-central"]) {
      const chart = await lineOf(page, repository);
      expect(chart.climbs).toBe(true);
      // Both lags are over the 10 min objective now: the latest check's dot is above the dashed line.
      expect(chart.dotY).toBeLessThan(chart.thresholdY);
      // Drawn, and inside its card.
      expect(chart.box.width).toBeGreaterThan(300);
      expect(chart.box.right).toBeLessThanOrEqual(chart.card.right);
    }
    // The sync's chart: its own threshold (15 min), and the climb of its last 20 min.
    const sync = page.locator('[data-branch="autoland"] svg.lag-chart');
    expect(await sync.getAttribute("aria-label")).toBe("lag over the last 24 h: latest 4 min, highest 4 min; objective 15 min");
    expect(await sync.locator("text.threshold-label").textContent()).toBe("objective 15 min");
    await expectNothingWider(page, 1280);
    mkdirSync("artifacts", { recursive: true });
    await page.screenshot({ path: "artifacts/status-page-desktop.png", fullPage: true });
    await context.close();
  });

  it("after a restart 3 h ago, each chart says since when, and greys the time before (phone screenshot kept)", async () => {
    scenario = "restart";
    try {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        httpCredentials: { username: "oncall", password: TOKEN },
      });
      const page = await context.newPage();
      expect((await page.goto(url))?.status()).toBe(200);
      const since = new Date(NOW - 3 * 60 * MIN).toISOString();
      const charts = page.locator("svg.lag-chart");
      expect(await charts.count()).toBe(3);
      for (const chart of await charts.all()) {
        expect(await chart.locator("text.since").textContent()).toBe(`since ${since.slice(11, 16)} UTC`);
        expect(await chart.getAttribute("aria-label")).toContain(`lag over the last 24 h, since ${since}`);
        // The grey covers the 21 h before the start: seven eighths of the day.
        const grey = await chart.locator("rect.before-start").boundingBox();
        const whole = await chart.boundingBox();
        expect((grey?.width ?? 0) / (whole?.width ?? 1)).toBeCloseTo((21 / 24) * (312 / 320), 1);
      }
      const chart = await lineOf(page, "mozilla-central");
      expect(chart.climbs).toBe(true);
      await expectNothingWider(page, 390);
      mkdirSync("artifacts", { recursive: true });
      await page.screenshot({ path: "artifacts/status-page-restart.png", fullPage: true });
      await context.close();
    } finally {
      scenario = "day";
    }
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
