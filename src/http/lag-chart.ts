// The last day's lag as a small chart on the page: server-rendered inline SVG (no script, nothing
// fetched: the page's CSP is `default-src 'none'`), so that a person opening the page at 3 a.m. sees
// whether the lag has been climbing for an hour or just jumped. Time runs left to right over the last
// 24 h, the lag upwards; the objective's threshold is a dashed line, the latest check a dot, and a check
// that did not know its lag leaves a gap, never a zero. Pure: points, the instant, the threshold in;
// markup out.
import { humanDuration } from "../core/duration.ts";

export interface ChartPoint {
  readonly at: string;
  readonly lagSeconds: number | null;
}

const DAY_MS = 24 * 60 * 60_000;
/** The drawing's own units; the page scales it to the card's width, keeping its proportions. */
const WIDTH = 320;
const HEIGHT = 100;
const LEFT = 4;
const RIGHT = WIDTH - 4;
const TOP = 16;
const BOTTOM = 82;
/** Labels with a white halo, so that the line passing under one leaves it readable. */
const TEXT = 'font-family="system-ui,sans-serif" font-size="10" fill="#555" stroke="#fff" stroke-width="3" paint-order="stroke"';

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
const round = (n: number): number => Math.round(n * 10) / 10;

interface Scale {
  x(atMs: number): number;
  y(lagSeconds: number): number;
}

function scaleOf(nowMs: number, maxSeconds: number): Scale {
  const from = nowMs - DAY_MS;
  return {
    x: (atMs) => round(LEFT + ((Math.min(Math.max(atMs, from), nowMs) - from) / DAY_MS) * (RIGHT - LEFT)),
    y: (lag) => round(BOTTOM - (Math.max(0, lag) / maxSeconds) * (BOTTOM - TOP)),
  };
}

/**
 * The stretches of the line: a point with no lag ends one, and so does a pause of more than three
 * times the usual spacing between checks (no check ran then, so nothing is known of that time).
 */
function stretches(points: ReadonlyArray<{ atMs: number; lagSeconds: number | null }>): Array<Array<{ atMs: number; lagSeconds: number }>> {
  const spacings = points
    .slice(1)
    .map((p, i) => p.atMs - (points[i]?.atMs ?? p.atMs))
    .sort((a, b) => a - b);
  const usual = spacings[Math.floor(spacings.length / 2)];
  const pause = usual === undefined || usual <= 0 ? Number.POSITIVE_INFINITY : 3 * usual;
  const out: Array<Array<{ atMs: number; lagSeconds: number }>> = [];
  let current: Array<{ atMs: number; lagSeconds: number }> = [];
  let previousAt: number | undefined;
  for (const { atMs, lagSeconds } of points) {
    const paused = previousAt !== undefined && atMs - previousAt > pause;
    if ((lagSeconds === null || paused) && current.length > 0) {
      out.push(current);
      current = [];
    }
    if (lagSeconds !== null) current.push({ atMs, lagSeconds });
    previousAt = atMs;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** "03:12 UTC": within the last day the time of day says which. */
const clock = (ms: number): string => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/**
 * The chart of one repository's (or branch's) last 24 h at `nowMs`: `points` oldest first as /status
 * gives them, `thresholdSeconds` the objective's, `since` when the history began (after a restart the
 * chart says so, and greys the time before).
 */
export function lagChart(points: readonly ChartPoint[], nowMs: number, thresholdSeconds: number, since: string | null = null): string {
  const from = nowMs - DAY_MS;
  const known = points.map((p) => ({ atMs: Date.parse(p.at), lagSeconds: p.lagSeconds })).filter((p) => Number.isFinite(p.atMs) && p.atMs > from);
  const lags = known.flatMap((p) => (p.lagSeconds === null ? [] : [p.lagSeconds]));
  const max = Math.max(thresholdSeconds, ...lags, 1);
  const scale = scaleOf(nowMs, max);
  const sinceMs = since === null ? Number.NaN : Date.parse(since);
  const restarted = Number.isFinite(sinceMs) && sinceMs > from;
  const latest = known.at(-1);
  const label =
    `lag over the last 24 h${restarted ? `, since ${new Date(sinceMs).toISOString()}` : ""}: ` +
    (latest === undefined ? "no check yet" : `latest ${latest.lagSeconds === null ? "unknown" : humanDuration(latest.lagSeconds)}`) +
    (lags.length > 0 ? `, highest ${humanDuration(Math.max(...lags))}` : "") +
    `; objective ${humanDuration(thresholdSeconds)}`;
  const thresholdY = scale.y(thresholdSeconds);
  const parts = [
    `<svg class="lag-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${esc(label)}</title>`,
    restarted ? `<rect class="before-start" x="${LEFT}" y="${TOP}" width="${round(scale.x(sinceMs) - LEFT)}" height="${BOTTOM - TOP}" fill="#eee"/>` : "",
    `<line class="axis" x1="${LEFT}" y1="${BOTTOM}" x2="${RIGHT}" y2="${BOTTOM}" stroke="#999" stroke-width="1"/>`,
    `<line class="threshold" x1="${LEFT}" y1="${thresholdY}" x2="${RIGHT}" y2="${thresholdY}" stroke="#c62828" stroke-width="1" stroke-dasharray="4 3"/>`,
    `<text class="threshold-label" x="${RIGHT}" y="${round(thresholdY - 3)}" text-anchor="end" ${TEXT}>objective ${esc(humanDuration(thresholdSeconds))}</text>`,
    max > thresholdSeconds ? `<text class="max-label" x="${LEFT}" y="${TOP - 4}" ${TEXT}>${esc(humanDuration(max))}</text>` : "",
    ...stretches(known).map((stretch) => {
      const xy = stretch.map((p) => `${scale.x(p.atMs)},${scale.y(p.lagSeconds)}`);
      const only = stretch[0];
      return stretch.length === 1 && only !== undefined
        ? `<circle class="lag-point" cx="${scale.x(only.atMs)}" cy="${scale.y(only.lagSeconds)}" r="1.5" fill="#1565c0"/>`
        : `<polyline class="lag-line" points="${xy.join(" ")}" fill="none" stroke="#1565c0" stroke-width="1.5" stroke-linejoin="round"/>`;
    }),
    currentMark(latest, scale),
    latest === undefined ? `<text x="${WIDTH / 2}" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" ${TEXT}>no check yet</text>` : "",
    restarted ? sinceLabel(scale.x(sinceMs), clock(sinceMs)) : `<text x="${LEFT}" y="96" ${TEXT}>24 h ago</text>`,
    `<text x="${RIGHT}" y="96" text-anchor="end" ${TEXT}>now</text>`,
    "</svg>",
  ];
  return parts.filter((p) => p !== "").join("");
}

/** "since 03:12 UTC" under the start: ending at it in the right half (short of "now"), else beginning at it. */
function sinceLabel(x: number, time: string): string {
  const where = x > WIDTH / 2 ? `x="${round(Math.min(x - 3, RIGHT - 26))}" text-anchor="end"` : `x="${round(x + 3)}"`;
  return `<text class="since" ${where} y="96" ${TEXT}>since ${esc(time)}</text>`;
}

/** The latest check: a dot at its lag, or, when it did not know its lag, a dotted mark across the chart (not a zero). */
function currentMark(latest: { atMs: number; lagSeconds: number | null } | undefined, scale: Scale): string {
  if (latest === undefined) return "";
  const x = scale.x(latest.atMs);
  if (latest.lagSeconds === null) {
    return `<line class="current unknown" x1="${x}" y1="${TOP}" x2="${x}" y2="${BOTTOM}" stroke="#616161" stroke-width="1.5" stroke-dasharray="2 2"/>`;
  }
  return `<circle class="current" cx="${x}" cy="${scale.y(latest.lagSeconds)}" r="3.5" fill="#1565c0" stroke="#fff" stroke-width="1"/>`;
}
