// The page at / as HTML, without a browser: what the pipeline section shows of the reviews in flight
// for over 2 h (status-page.browser.test.ts shows the page as a person sees it).
import { describe, expect, it } from "vitest";
import { renderStatusPage } from "../../src/http/status-page.ts";
import type { PipelineStatus, RepositoryStatusEntry, SyncStatus } from "../../src/app/status-document.ts";
import { documentOf } from "../support/status.ts";

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

const pipeline = (stuck: PipelineStatus["stuck"]): PipelineStatus => ({
  reviewsInFlight: stuck === null ? null : 3 + stuck.length,
  oldestReviewSeconds: stuck === null ? null : (stuck[0]?.ageSeconds ?? 600),
  stuck,
  lastCodeReviewPush: null,
  lastCheck: new Date(NOW - 60_000).toISOString(),
  lastSuccess: new Date(NOW - 60_000).toISOString(),
  lastError: null,
});

const page = (section: PipelineStatus) => renderStatusPage(documentOf({ repositories: [], pipeline: section }, [], NOW));

describe("the page's reviews in flight for over 2 h", () => {
  it("shows each in a row of a table in the pipeline section, oldest first, its age in human units", () => {
    const html = page(
      pipeline([
        { revision: "D123", diff: "PHID-DIFF-aaaa", tryPushId: 456, ageSeconds: 8100 },
        { revision: null, diff: "PHID-DIFF-bbbb", tryPushId: null, ageSeconds: 7201 },
      ]),
    );
    const table = /<table id="stuck"[^]*?<\/table>/.exec(html)?.[0] ?? "";
    expect(table).toContain("<caption>In flight for over 2 h: 2</caption>");
    expect(table).toContain("<th>Revision</th><th>Diff</th><th>Try push</th><th>Age</th>");
    expect(table.match(/<tr><td>.*?<\/tr>/g)).toEqual([
      "<tr><td>D123</td><td><code>PHID-DIFF-aaaa</code></td><td>456</td><td>2 h 15 min</td></tr>",
      "<tr><td>unknown</td><td><code>PHID-DIFF-bbbb</code></td><td>unknown</td><td>2 h</td></tr>",
    ]);
    // In the pipeline section: after its facts, before the next section.
    const at = html.indexOf('<table id="stuck"');
    expect(at).toBeGreaterThan(html.indexOf('<dl id="pipeline">'));
    expect(at).toBeLessThan(html.indexOf("<h2>Queues</h2>"));
  });

  it("escapes what it shows", () => {
    const html = page(pipeline([{ revision: "D1<script>", diff: 'PHID-DIFF-"&<b>', tryPushId: 1, ageSeconds: 9000 }]));
    expect(html).not.toContain("<script>");
    expect(html).toContain("<td>D1&lt;script&gt;</td><td><code>PHID-DIFF-&quot;&amp;&lt;b&gt;</code></td>");
  });

  it("shows nothing when none is stuck, nor when the reviews in flight are unknown", () => {
    for (const stuck of [[], null]) {
      const html = page(pipeline(stuck));
      expect(html).toContain('<dl id="pipeline">');
      expect(html).not.toContain('id="stuck"');
      expect(html).not.toContain("over 2 h");
    }
  });
});

describe("the page's last day per repository and per Git branch", () => {
  const history = [
    { at: new Date(NOW - 10 * 60_000).toISOString(), lagSeconds: 120 },
    { at: new Date(NOW - 5 * 60_000).toISOString(), lagSeconds: 420 },
  ];
  const repository: RepositoryStatusEntry = {
    repository: "integration/autoland",
    callsign: "AUTOLAND",
    status: "lagging",
    reason: "push 7 is not fully mirrored after 7 min",
    lagSeconds: 420,
    oldestUnverified: null,
    blockedChecks: 1,
    pending: 1,
    lastCheck: history[1]?.at ?? null,
    lastSuccess: history[1]?.at ?? null,
    lastError: null,
    lastPushReceived: null,
    history,
    historySince: new Date(NOW - 2 * 3600_000).toISOString(),
  };
  const branch: SyncStatus = {
    branch: "main",
    repository: "mozilla-central",
    lagSeconds: null,
    oldestPending: null,
    pending: 0,
    lastCheck: null,
    lastSuccess: null,
    lastError: null,
    history: [],
    historySince: repository.historySince,
  };

  it("draws each card's chart, in the card, with its objective's threshold (replication 10 min, Git sync 15 min) and since when", () => {
    const html = renderStatusPage(documentOf({ repositories: [repository], sync: [branch] }, [], NOW));
    const card = /<section class="card lagging" data-repository="integration\/autoland"[^]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(card).toContain('<svg class="lag-chart"');
    expect(card).toContain(">objective 10 min</text>");
    expect(card).toContain(">since 10:00 UTC</text>");
    expect(card).toMatch(/<polyline class="lag-line" points="[^"]+"/);
    const sync = /<section [^>]*data-branch="main"[^]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(sync).toContain(">objective 15 min</text>");
    expect(sync).toContain(">no check yet</text>");
    // No script, no external resource, as before.
    expect(html).not.toMatch(/<script|<link|<img|src=/i);
  });
});
