// GET /: the status document as a page a person reads on a phone. Server-rendered, no script, no
// front-end build; every value from the document is escaped. Pure: a document in, HTML out.
import { humanDuration } from "../core/duration.ts";
import { objective } from "../core/objectives.ts";
import { lagChart } from "./lag-chart.ts";
import type { PipelineStatus, QueueStatus, RepositoryStatusEntry, StatusDocument } from "../app/status-document.ts";
import type { Status } from "../replication/repository-status.ts";

/** The thresholds each chart draws: the objectives' (src/core/objectives.ts). */
const REPLICATION_THRESHOLD = objective("replication").thresholdSeconds;
const SYNC_THRESHOLD = objective("git_sync").thresholdSeconds;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The words a person sees for each status; colour is never the only sign. */
const LABELS: Record<Status, string> = { ok: "OK", lagging: "LAGGING", stalled: "STALLED", no_input: "NO INPUT", unknown: "UNKNOWN" };

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:48rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta{color:#555;font-size:.85rem;margin:0 0 1rem}
.card{background:#fff;border:1px solid #ddd;border-left-width:.5rem;border-radius:.4rem;padding:.75rem;margin:.5rem 0}
.card h3{font-size:1rem;margin:0 0 .25rem;display:flex;gap:.5rem;flex-wrap:wrap;align-items:baseline}
.badge{font-size:.75rem;font-weight:700;padding:.1rem .4rem;border-radius:.25rem;color:#fff}
.ok{border-left-color:#2e7d32}.ok .badge{background:#2e7d32}
.lagging{border-left-color:#ef6c00}.lagging .badge{background:#ef6c00}
.stalled{border-left-color:#c62828}.stalled .badge{background:#c62828}
.no_input{border-left-color:#6a1b9a}.no_input .badge{background:#6a1b9a}
.unknown{border-left-color:#616161}.unknown .badge{background:#616161}
.lag{font-size:1.4rem;font-weight:600;margin:.25rem 0}
.reason{margin:.25rem 0}dl{display:grid;grid-template-columns:minmax(6rem,35%) 1fr;gap:.1rem .75rem;margin:.5rem 0 0;font-size:.9rem}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}code{font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;table-layout:fixed}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #ddd;overflow-wrap:anywhere}th:first-child{width:50%}
.stuck{margin-top:.75rem}.stuck caption{text-align:left;font-weight:600;padding:.25rem .4rem}
.stuck th:first-child{width:20%}.stuck th:nth-child(2){width:40%}
.down{color:#c62828;font-weight:700}
.lag-chart{display:block;width:100%;max-width:28rem;height:auto;margin:.25rem 0}
footer{margin-top:2rem;font-size:.85rem;color:#555}
`;

function when(isoTime: string | null, nowMs: number): string {
  if (isoTime === null) return "never";
  const seconds = Math.floor((nowMs - Date.parse(isoTime)) / 1000);
  // The instant itself is a tap (title) away: on a phone the age is what is read first.
  return `<time datetime="${esc(isoTime)}" title="${esc(isoTime)}">${esc(humanDuration(seconds))} ago</time>`;
}

function lagLine(entry: RepositoryStatusEntry): string {
  if (entry.lagSeconds === null) return "lag unknown";
  if (entry.lagSeconds === 0) return "no lag: the mirror has every push";
  return `${esc(humanDuration(entry.lagSeconds))} behind`;
}

function repositoryCard(entry: RepositoryStatusEntry, nowMs: number): string {
  const blocker = entry.oldestUnverified;
  const rows: Array<[string, string]> = [];
  if (blocker) {
    rows.push([
      "Oldest push not mirrored",
      `push ${esc(blocker.pushId)} by ${esc(blocker.user)}, pushed ${when(blocker.pushTime, nowMs)}` +
        (entry.blockedChecks > 1 ? `; the oldest for ${esc(entry.blockedChecks)} checks` : ""),
    ]);
    if (blocker.missingNode !== null) {
      const count = blocker.missingCommits === null ? "" : ` (${esc(blocker.missingCommits)} commit${blocker.missingCommits === 1 ? "" : "s"} missing)`;
      rows.push(["First missing commit", `<code>${esc(blocker.missingNode)}</code>${count}`]);
    }
  }
  rows.push(["Pushes pending", entry.pending === null ? "unknown" : esc(entry.pending)]);
  rows.push(["Last push received", when(entry.lastPushReceived, nowMs)]);
  rows.push(["Last check", when(entry.lastCheck, nowMs)]);
  rows.push(["Last successful check", when(entry.lastSuccess, nowMs)]);
  if (entry.lastError !== null) rows.push(["Last error", esc(entry.lastError)]);
  return [
    `<section class="card ${esc(entry.status)}" data-repository="${esc(entry.repository)}" data-status="${esc(entry.status)}">`,
    `<h3><span class="badge">${LABELS[entry.status]}</span> ${esc(entry.repository)} <small>(${esc(entry.callsign)})</small></h3>`,
    `<p class="lag">${lagLine(entry)}</p>`,
    lagChart(entry.history, nowMs, REPLICATION_THRESHOLD, entry.historySince),
    entry.reason === null ? "" : `<p class="reason">${esc(entry.reason)}</p>`,
    `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    "</section>",
  ].join("\n");
}

function queueRow(q: QueueStatus): string {
  const messages = q.state === "ok" ? esc(q.messages) : q.state === "missing" ? "does not exist" : "unknown";
  const consumers = q.state === "ok" ? esc(q.consumers) : "";
  return `<tr><td><code>${esc(q.queue)}</code></td><td>${q.owner === "service" ? "ours" : "watched"}</td><td>${messages}</td><td>${consumers}</td></tr>`;
}

/** The reviews in flight for over 2 h, oldest first; nothing when there are none (or none known). */
function stuckTable(stuck: PipelineStatus["stuck"]): string {
  if (stuck === null || stuck.length === 0) return "";
  const rows = stuck.map(
    (s) =>
      `<tr><td>${s.revision === null ? "unknown" : esc(s.revision)}</td><td><code>${esc(s.diff)}</code></td>` +
      `<td>${s.tryPushId === null ? "unknown" : esc(s.tryPushId)}</td><td>${esc(humanDuration(s.ageSeconds))}</td></tr>`,
  );
  return [
    `<table id="stuck" class="stuck"><caption>In flight for over 2 h: ${esc(stuck.length)}</caption>`,
    `<thead><tr><th>Revision</th><th>Diff</th><th>Try push</th><th>Age</th></tr></thead><tbody>${rows.join("")}</tbody></table>`,
  ].join("");
}

export function renderStatusPage(doc: StatusDocument): string {
  const nowMs = Date.parse(doc.generatedAt);
  const worst = doc.repositories.filter((r) => r.status !== "ok").length;
  const pipeline = doc.pipeline;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    // A person watching the page sees the next check's result without reloading by hand.
    '<meta http-equiv="refresh" content="60">',
    `<title>${worst === 0 ? "OK" : `${worst} not OK`} · phabricator-repo-monitor</title><style>${STYLE}</style></head><body>`,
    "<h1>phabricator-repo-monitor</h1>",
    `<p class="meta">As of ${esc(doc.generatedAt)} · Pulse ${doc.pulse.connected ? "connected" : '<span class="down">disconnected</span>'}</p>`,
    "<h2>Replication to the Phabricator mirror</h2>",
    ...doc.repositories.map((r) => repositoryCard(r, nowMs)),
    "<h2>Code-review pipeline</h2>",
    pipeline === null
      ? "<p>Not measured (CODE_REVIEW_TRY_REPOSITORY or PHABRICATOR_API_TOKEN is not set).</p>"
      : [
          '<dl id="pipeline">',
          `<dt>Reviews in flight</dt><dd>${pipeline.reviewsInFlight === null ? "unknown" : esc(pipeline.reviewsInFlight)}</dd>`,
          `<dt>Oldest in flight</dt><dd>${pipeline.oldestReviewSeconds === null ? "unknown" : esc(humanDuration(pipeline.oldestReviewSeconds))}</dd>`,
          `<dt>Last code-review Try push</dt><dd>${
            pipeline.lastCodeReviewPush === null
              ? "none seen by this process"
              : `push ${esc(pipeline.lastCodeReviewPush.pushId)}, ${when(pipeline.lastCodeReviewPush.pushTime, nowMs)}`
          }</dd>`,
          `<dt>Last check</dt><dd>${when(pipeline.lastCheck, nowMs)}</dd>`,
          `<dt>Last successful check</dt><dd>${when(pipeline.lastSuccess, nowMs)}</dd>`,
          pipeline.lastError === null ? "" : `<dt>Last error</dt><dd>${esc(pipeline.lastError)}</dd>`,
          "</dl>",
          stuckTable(pipeline.stuck),
        ].join("\n"),
    ...(doc.sync === null
      ? []
      : [
          "<h2>Git → hg sync</h2>",
          ...doc.sync.map(
            (b) =>
              `<section class="card ${b.lagSeconds === null ? "unknown" : b.lagSeconds > 0 ? "lagging" : "ok"}" data-branch="${esc(b.branch)}"><h3>${esc(b.branch)} → ${esc(b.repository)}</h3>` +
              `<p class="lag">${b.lagSeconds === null ? "sync lag unknown" : b.lagSeconds === 0 ? "every Git push is in hg" : `${esc(humanDuration(b.lagSeconds))} behind`}</p>` +
              lagChart(b.history, nowMs, SYNC_THRESHOLD, b.historySince) +
              `<dl>${b.oldestPending === null ? "" : `<dt>Oldest Git push not in hg</dt><dd>Lando push ${esc(b.oldestPending.pushId)}, head <code>${esc(b.oldestPending.head)}</code>, ${when(b.oldestPending.pushTime, nowMs)}</dd>`}` +
              `<dt>Pending</dt><dd>${esc(b.pending)}</dd><dt>Last check</dt><dd>${when(b.lastCheck, nowMs)}</dd><dt>Last successful check</dt><dd>${when(b.lastSuccess, nowMs)}</dd>` +
              `${b.lastError === null ? "" : `<dt>Last error</dt><dd>${esc(b.lastError)}</dd>`}</dl></section>`,
          ),
        ]),
    "<h2>Queues</h2>",
    doc.queues.length === 0
      ? "<p>No depth read yet.</p>"
      : `<table id="queues"><thead><tr><th>Queue</th><th>Owner</th><th>Msgs</th><th>Cons.</th></tr></thead><tbody>${doc.queues.map(queueRow).join("")}</tbody></table>`,
    '<footer><a href="/status">/status</a> (this page as JSON) · <a href="/metrics">/metrics</a> · <a href="/__heartbeat__">/__heartbeat__</a> · <a href="/__version__">/__version__</a></footer>',
    "</body></html>",
    "",
  ].join("\n");
}
