// The objectives' rules (grafana/alerts/phabmon.slo.rules.yml) are generated from src/core/objectives.ts:
// committed exactly as `npm run dashboards` writes them, every series of this service's job and every
// aggregation keeping `job`, as the hand-written rules. promtool runs them in test/grafana.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OBJECTIVES } from "../../src/core/objectives.ts";
import { renderRules } from "../../grafana/src/rules-yaml.ts";
import { BURN_ALERTS, SLO_RULES_HEADER, WINDOWS, sloRuleGroups } from "../../grafana/src/slo-rules.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const committed = readFileSync(join(ROOT, "grafana/alerts/phabmon.slo.rules.yml"), "utf8");
const tests = ["phabmon.slo.rules.test.yml", "phabmon.slo.rules.slow.test.yml"].map((f) => readFileSync(join(ROOT, "grafana/alerts", f), "utf8")).join("\n");

/** Each rule's block of the committed file: `- record:` or `- alert:` to the next. */
const blocks = committed.split(/\n(?= {6}- (?:alert|record): | {2}- name: )/).filter((b) => /^ {6}- (alert|record): /.test(b));
const exprOf = (block: string) => (/\n {8}expr: (?:\|\n)?([\s\S]*?)\n {8}(?:for|labels):/.exec(block)?.[1] ?? "").replace(/^ {10}/gm, "");

describe("the objectives' rules", () => {
  it("are committed exactly as grafana/src/slo-rules.ts builds them (run `npm run dashboards`)", () => {
    expect(committed).toBe(renderRules(SLO_RULES_HEADER, sloRuleGroups()));
  });

  it("record events, bad events and their ratio over every window, and the budget's window, per objective", () => {
    const records = blocks.flatMap((b) => {
      const name = /- record: (\S+)/.exec(b)?.[1];
      const objective = /\n {10}objective: (\S+)/.exec(b)?.[1];
      return name ? [`${objective} ${name}`] : [];
    });
    for (const o of OBJECTIVES) {
      for (const w of WINDOWS) {
        for (const kind of ["events", "bad_events", "error_ratio"]) expect(records).toContain(`${o.name} phabmon:slo_${kind}:rate${w}`);
      }
      expect(records).toContain(`${o.name} phabmon:slo_error_ratio:rate${o.windowDays}d`);
      // Good events are the histogram's bucket at the objective's threshold.
      expect(committed).toContain(`${o.histogram}_bucket{job=~"phabricator-repo-monitor.*", le="${o.thresholdSeconds}"}`);
    }
  });

  it("select only this service's series and keep `job` in every aggregation", () => {
    expect(blocks.length).toBe(OBJECTIVES.length * (2 + 3 * WINDOWS.length + BURN_ALERTS.length));
    for (const block of blocks) {
      const expr = exprOf(block);
      expect(expr, block).not.toBe("");
      for (const selector of expr.matchAll(/\b(phabmon[_:][a-z_:0-9]+)\b(\{[^}]*\})?/g)) {
        expect(selector[2] ?? "", selector[0]).toMatch(/^\{job=~"phabricator-repo-monitor\.\*"/);
      }
      for (const by of expr.matchAll(/\b(?:by|on|without|ignoring) \(([^)]*)\)/g)) expect(by[0]).toMatch(/^(by|on) \((.*, )?job\b/);
    }
  });

  it("alert on the workbook's three burn rates per objective, each with a runbook and a firing and a quiet promtool case", () => {
    for (const o of OBJECTIVES) {
      for (const a of BURN_ALERTS) {
        const block = blocks.find((b) => b.startsWith(`      - alert: ${a.name}\n`) && b.includes(`objective: ${o.name}\n`));
        expect(block, `${a.name} ${o.name}`).toBeDefined();
        const budget = Number((1 - o.target).toFixed(6));
        expect(exprOf(block ?? "")).toBe(
          `phabmon:slo_error_ratio:rate${a.long}{job=~"phabricator-repo-monitor.*", objective="${o.name}"} > ${a.factor} * ${budget}\n` +
            `and phabmon:slo_error_ratio:rate${a.short}{job=~"phabricator-repo-monitor.*", objective="${o.name}"} > ${a.factor} * ${budget}`,
        );
        expect(block).toContain(`\n        for: ${a.for}\n`);
        expect(block).toContain(`\n          severity: ${a.severity}\n`);
        expect(block).toContain(
          `\n          runbook_url: "https://github.com/mozilla-conduit/phabricator-repo-monitor/blob/main/docs/runbooks.md#${a.name.toLowerCase()}"`,
        );
        // The objective's numbers, for the person paged.
        expect(block).toContain(`${o.target * 100} % of ${o.description}, over ${o.windowDays} days`);
      }
    }
    for (const a of BURN_ALERTS) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${a.name}\\n {8}exp_alerts:( \\[\\])?`, "g"))];
      expect(
        cases.some((c) => c[1] === " []"),
        `${a.name} never tested quiet`,
      ).toBe(true);
      expect(
        cases.some((c) => c[1] === undefined),
        `${a.name} never tested firing`,
      ).toBe(true);
    }
  });

  it("count an unknown (NaN) lag or pipeline as waiting: `NaN > x` is false, so each test says NaN itself", () => {
    const waiting = blocks.filter((b) => b.startsWith("      - record: phabmon:slo_waiting_bad_events:rate\n")).map(exprOf);
    expect(waiting.length).toBe(OBJECTIVES.length);
    for (const expr of waiting) expect(expr).toMatch(/ != bool /);
  });
});
