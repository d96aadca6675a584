// The last day's chart as markup, over fixed instants: where the line, the threshold and the latest
// check fall, gaps where the lag was not known, and what it says after a restart.
// (status-page.browser.test.ts shows it drawn in Chromium.)
import { describe, expect, it } from "vitest";
import { lagChart, type ChartPoint } from "../../src/http/lag-chart.ts";

const NOW = Date.UTC(2026, 11, 8, 4, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(ms).toISOString();
/** The chart's own units (lag-chart.ts): x from 4 (24 h ago) to 316 (now), lag 0 at y 82, the top of the scale at y 16. */
const [RIGHT, TOP, BOTTOM] = [316, 16, 82];

/** A check every 5 min over the last `hours`, ending now, with lag `lag(i)`. */
function day(hours: number, lag: (i: number) => number | null): ChartPoint[] {
  const count = (hours * 60) / 5;
  return Array.from({ length: count }, (_, i) => ({ at: at(NOW - (count - 1 - i) * 5 * MIN), lagSeconds: lag(i) }));
}

const lines = (svg: string): Array<Array<[number, number]>> =>
  [...svg.matchAll(/<polyline class="lag-line" points="([^"]+)"/g)].map((m) =>
    (m[1] ?? "").split(" ").map((pair) => pair.split(",").map(Number) as [number, number]),
  );
const attr = (svg: string, element: string, name: string): number => Number(new RegExp(`<${element}[^>]*? ${name}="([^"]+)"`).exec(svg)?.[1]);

describe("the last day's chart", () => {
  it("draws a climbing lag as a line that rises from left to right (smaller y), over the whole 24 h", () => {
    const svg = lagChart(
      day(24, (i) => i * 10),
      NOW,
      600,
    );
    const [line, ...rest] = lines(svg);
    expect(rest).toEqual([]);
    expect(line).toHaveLength(288);
    const xs = (line ?? []).map(([x]) => x);
    const ys = (line ?? []).map(([, y]) => y);
    expect(xs.every((x, i) => i === 0 || x > (xs[i - 1] as number))).toBe(true);
    expect(ys.every((y, i) => i === 0 || y < (ys[i - 1] as number))).toBe(true);
    // The first check just inside the day's left edge at lag 0; the latest at the right edge, at the top of the scale.
    expect(line?.[0]).toEqual([5.1, BOTTOM]);
    expect(line?.at(-1)).toEqual([RIGHT, TOP]);
    expect(svg).toContain(">24 h ago</text>");
    expect(svg).not.toContain("since");
  });

  it("draws the objective's threshold as a dashed line: at the top when every lag is below it, half-way when the highest lag is twice it", () => {
    const below = lagChart(
      day(1, () => 60),
      NOW,
      900,
    );
    expect(attr(below, 'line class="threshold"', "y1")).toBe(TOP);
    expect(below).toMatch(/<line class="threshold"[^>]*stroke-dasharray="4 3"/);
    expect(below).toContain(">objective 15 min</text>");
    const above = lagChart(
      day(1, (i) => (i === 11 ? 1800 : 60)),
      NOW,
      900,
    );
    expect(attr(above, 'line class="threshold"', "y1")).toBe((TOP + BOTTOM) / 2);
    // The top of the scale is labelled with the highest lag.
    expect(above).toContain(">30 min</text>");
  });

  it("leaves a gap, never a zero, where a check did not know the lag, and where no check ran", () => {
    const points = day(2, (i) => (i === 10 ? null : 300));
    const svg = lagChart(points, NOW, 600);
    const [before, after] = lines(svg);
    expect(lines(svg)).toHaveLength(2);
    expect(before).toHaveLength(10);
    expect(after).toHaveLength(13);
    expect(
      lines(svg)
        .flat()
        .some(([, y]) => y === BOTTOM),
    ).toBe(false);
    // Two hours without a check in a day of 5-minute checks: the line does not bridge them.
    const paused = day(6, () => 300).filter((_, i) => i < 24 || i >= 48);
    expect(lines(lagChart(paused, NOW, 600))).toHaveLength(2);
  });

  it("marks the latest check with a dot at its lag, or with a dotted mark when it did not know", () => {
    const svg = lagChart(
      day(1, () => 300),
      NOW,
      600,
    );
    expect(attr(svg, 'circle class="current"', "cx")).toBe(RIGHT);
    expect(attr(svg, 'circle class="current"', "cy")).toBe((TOP + BOTTOM) / 2);
    const unknown = lagChart(
      day(1, (i) => (i === 11 ? null : 300)),
      NOW,
      600,
    );
    expect(unknown).not.toContain('<circle class="current"');
    expect(unknown).toContain('<line class="current unknown" x1="316"');
    expect(unknown).toContain("latest unknown");
  });

  it("says what it shows for a screen reader, and since when after a restart less than 24 h ago", () => {
    const svg = lagChart(
      day(3, (i) => i * 20),
      NOW,
      600,
      at(NOW - 3 * HOUR),
    );
    const label = "lag over the last 24 h, since 2026-12-08T01:00:00.000Z: latest 11 min 40 s, highest 11 min 40 s; objective 10 min";
    expect(svg).toContain(`role="img" aria-label="${label}"`);
    expect(svg).toContain(`<title>${label}</title>`);
    expect(svg).toContain(">since 01:00 UTC</text>");
    // The time before the start is greyed: nothing is known of it.
    expect(attr(svg, 'rect class="before-start"', "width")).toBe(273);
    // Started more than a day ago: no "since".
    const old = lagChart(
      day(3, () => 0),
      NOW,
      600,
      at(NOW - 30 * HOUR),
    );
    expect(old).not.toContain("since");
    expect(old).toContain('aria-label="lag over the last 24 h: latest 0 s, highest 0 s; objective 10 min"');
  });

  it("says so when no check has run yet, and fetches nothing (the page's CSP allows no external resource)", () => {
    const svg = lagChart([], NOW, 600, at(NOW - MIN));
    expect(svg).toContain(">no check yet</text>");
    expect(svg).not.toContain("<polyline");
    for (const chart of [
      svg,
      lagChart(
        day(24, (i) => i),
        NOW,
        600,
      ),
    ]) {
      expect(chart).not.toMatch(/<script|href=|url\(|<image|<foreignObject/i);
      expect(chart.startsWith("<svg ")).toBe(true);
    }
  });

  it("leaves out what is older than 24 h", () => {
    const svg = lagChart([{ at: at(NOW - 25 * HOUR), lagSeconds: 100 }, ...day(1, () => 100)], NOW, 600);
    expect(lines(svg)[0]).toHaveLength(12);
  });
});
