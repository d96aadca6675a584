// The operations kit as code: dashboards built from grafana/src, every expression parsed by promtool,
// alert rules checked and unit-tested by promtool, each with a runbook in docs/runbooks.md.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUDGET_LOW, BURN_ALERTS, DASHBOARDS, THRESHOLDS, objectivesDashboard, renderDashboard } from "../grafana/src/dashboards.ts";
import { OBJECTIVES, type Objective } from "../src/core/objectives.ts";
import { ROOT } from "./support/harness.ts";
import {
  RULE_TESTS,
  RULES,
  SLO_RULES,
  SLO_RULE_TESTS,
  alertRules,
  checkExpressions,
  concreteExpr,
  dashboardExpressions,
  promtool,
} from "./support/promtool.ts";

import type { DashboardJson } from "./support/promtool.ts";

function committed(file: string): string {
  return readFileSync(join(ROOT, "grafana/dashboards", file), "utf8");
}

/** The alerts of both rule files: the hand-written thresholds and the generated burn-rate alerts. */
function alertNames(): string[] {
  return [...alertRules(), ...alertRules(SLO_RULES)].map((r) => r.name);
}

describe("Grafana dashboards", () => {
  it("are committed exactly as grafana/src/dashboards.ts builds them (run `npm run dashboards`)", () => {
    expect(readdirSync(join(ROOT, "grafana/dashboards")).sort()).toEqual(Object.keys(DASHBOARDS).sort());
    for (const [file, build] of Object.entries(DASHBOARDS)) expect(committed(file), file).toBe(renderDashboard(build));
  });

  it("each have a Prometheus datasource variable and a label variable, and every query uses the datasource variable", () => {
    for (const file of Object.keys(DASHBOARDS)) {
      const json = JSON.parse(committed(file)) as DashboardJson;
      expect(json.templating.list[0]).toMatchObject({ type: "datasource", name: "datasource", query: "prometheus" });
      expect(json.templating.list[1]).toMatchObject({ type: "query" });
      const targets = json.panels.flatMap((p) => p.targets ?? []);
      expect(targets.length).toBeGreaterThan(5);
      for (const target of targets) expect(target.datasource.uid).toBe("${datasource}");
    }
  });

  it("have the panels the issue lists", () => {
    const titles = Object.keys(DASHBOARDS).flatMap((file) => (JSON.parse(committed(file)) as DashboardJson).panels.map((p) => `${p.type}: ${p.title}`));
    for (const expected of [
      "timeseries: Replication lag",
      "timeseries: Replication delay quantiles",
      "heatmap: Replication delay distribution",
      "timeseries: Pending pushes",
      "timeseries: Checks",
      "timeseries: Age of the last successful check",
      "stat: Lag now",
      "stat: Status",
      "stat: Since the last push arrived",
      "stat: Pulse",
      "table: The push that holds the lag",
      "timeseries: Age of the last successful pipeline check",
      "timeseries: Pipeline checks",
      "timeseries: Git → hg sync lag",
      "timeseries: Git → hg sync delay quantiles",
      "timeseries: Landing → Git mirror quantiles",
      "timeseries: Pulse reconnects and consumer cancels",
      "timeseries: Upstream request latency",
      "timeseries: Upstream request failures",
      "timeseries: Rejected messages",
      "timeseries: Queue depth",
      "timeseries: Try push latency",
      "timeseries: End-to-end review time",
      "timeseries: Reviews in flight",
      "timeseries: Oldest review in flight",
      "timeseries: Review outcomes",
      ...OBJECTIVES.flatMap((o) => [
        `stat: ${o.name}: error budget left`,
        `timeseries: ${o.name}: error budget left over time`,
        `timeseries: ${o.name}: burn rate`,
        `timeseries: ${o.name}: events that spent it`,
      ]),
    ]) {
      expect(titles).toContain(expected);
    }
  });

  it("draw the alert rules' own thresholds: a test fails when a panel and its rule disagree", () => {
    const rules = new Map(alertRules().map((r) => [r.name, r.block]));
    // The comparison that is the alert's threshold: the first in its expression, or the last where a
    // guard comes first (PhabmonPipelineCheckStale's `> 0`).
    const threshold = (alert: string, which: "first" | "last" = "first") => {
      const block = rules.get(alert) ?? "";
      const found = [...block.slice(block.indexOf("expr:"), block.indexOf("\n        for:")).matchAll(/(?:>|>=) (\d+)\b/g)];
      return Number((which === "first" ? found[0] : found.at(-1))?.[1]);
    };
    expect(threshold("PhabmonReplicationLagHigh")).toBe(THRESHOLDS.lagWarningSeconds);
    expect(threshold("PhabmonReplicationLagCritical")).toBe(THRESHOLDS.lagCriticalSeconds);
    expect(threshold("PhabmonSyncLagHigh")).toBe(THRESHOLDS.syncLagWarningSeconds);
    expect(threshold("PhabmonCheckStale")).toBe(THRESHOLDS.checkStaleSeconds);
    expect(threshold("PhabmonPipelineCheckStale", "last")).toBe(THRESHOLDS.checkStaleSeconds);
    expect(threshold("PhabmonQueueBacklog")).toBe(THRESHOLDS.queueWarning);
    expect(threshold("PhabmonWatchedQueueBacklog")).toBe(THRESHOLDS.queueWarning);
    expect(threshold("PhabmonQueueNearDeletion")).toBe(THRESHOLDS.queuePage);
    expect(threshold("PhabmonTryPushLatencyHigh")).toBe(THRESHOLDS.tryLatencyP90Seconds);
    expect(threshold("PhabmonReviewTimeHigh")).toBe(THRESHOLDS.reviewTimeP90Seconds);
    expect(threshold("PhabmonReviewsStuck")).toBe(THRESHOLDS.reviewsStuck);
    // And the panels draw those numbers.
    const steps = Object.keys(DASHBOARDS).flatMap((file) =>
      (
        JSON.parse(committed(file)) as {
          panels: Array<{ title: string; fieldConfig?: { defaults?: { thresholds?: { steps: Array<{ value: number | null }> } } } }>;
        }
      ).panels.map((p) => [p.title, (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((step) => step.value)] as const),
    );
    const drawn = new Map(steps);
    expect(drawn.get("Replication lag")).toEqual([null, THRESHOLDS.lagWarningSeconds, THRESHOLDS.lagCriticalSeconds]);
    expect(drawn.get("Lag now")).toEqual([null, THRESHOLDS.lagWarningSeconds, THRESHOLDS.lagCriticalSeconds]);
    expect(drawn.get("Git → hg sync lag")).toEqual([null, THRESHOLDS.syncLagWarningSeconds]);
    expect(drawn.get("Queue depth")).toEqual([null, THRESHOLDS.queueWarning, THRESHOLDS.queuePage]);
    expect(drawn.get("Try push latency")).toContain(THRESHOLDS.tryLatencyP90Seconds);
    expect(drawn.get("End-to-end review time")).toContain(THRESHOLDS.reviewTimeP90Seconds);
    expect(drawn.get("Reviews in flight")).toEqual([null, THRESHOLDS.reviewsStuck]);
    expect(drawn.get("Age of the last successful check")).toEqual([null, THRESHOLDS.checkStaleSeconds]);
  });

  it("link every alert's runbook from a panel that shows what it watches, show Pulse 0 as a red 'disconnected', and mark restarts", () => {
    const boards = Object.keys(DASHBOARDS).map(
      (file) =>
        JSON.parse(committed(file)) as {
          panels: Array<{
            title: string;
            links?: Array<{ url: string }>;
            fieldConfig?: { defaults?: { mappings?: Array<{ type: string; options: Record<string, unknown> }> } };
          }>;
          annotations: { list: Array<{ name: string; expr?: string }> };
        },
    );
    const linked = new Set(boards.flatMap((b) => b.panels.flatMap((p) => (p.links ?? []).map((l) => l.url.split("#")[1]))));
    const alerts = alertNames();
    for (const name of alerts) expect(linked.has(name.toLowerCase()), `no panel links the runbook of ${name}`).toBe(true);
    // And the other way: every runbook a panel links is an alert's of the rules.
    const known = new Set(alerts.map((name) => name.toLowerCase()));
    for (const anchor of linked) expect(known.has(anchor as string), `a panel links #${anchor}, no alert of the rules`).toBe(true);
    const pulse = boards.flatMap((b) => b.panels).find((p) => p.title === "Pulse");
    expect(pulse?.fieldConfig?.defaults?.mappings).toContainEqual({
      type: "value",
      options: { "0": { text: "disconnected", color: "red", index: 0 }, "1": { text: "connected", color: "green", index: 1 } },
    });
    for (const board of boards) expect(board.annotations.list.map((a) => a.name)).toContain("Restarts");
  });

  it("query only expressions that promtool parses", async () => {
    const annotations = Object.keys(DASHBOARDS).flatMap((file) =>
      (JSON.parse(committed(file)) as { annotations: { list: Array<{ expr?: string }> } }).annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
    );
    expect(annotations.length).toBe(Object.keys(DASHBOARDS).length);
    expect((await checkExpressions(annotations)).code).toBe(0);
    const result = await checkExpressions(dashboardExpressions());
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
    // And the check is a real one: a broken expression fails it.
    expect((await checkExpressions(["sum by (le (rate(phabmon_checks_total[5m]))"])).code).not.toBe(0);
  });
});

interface Panel {
  type: string;
  title: string;
  description?: string;
  targets?: Array<{ expr: string; legendFormat: string }>;
  links?: Array<{ url: string }>;
  interval?: string;
  options?: { reduceOptions?: { calcs: string[] }; legend?: { showLegend: boolean } };
  fieldConfig?: {
    defaults: {
      unit?: string;
      noValue?: string;
      mappings?: unknown[];
      custom?: { drawStyle?: string; thresholdsStyle?: { mode: string } };
      thresholds?: { steps: Array<{ value: number | null; color: string }> };
    };
  };
}

/** The Objectives dashboard's panels, grouped under the row each follows. */
function objectiveRows(board: { panels: Panel[] }): Array<{ title: string; panels: Panel[] }> {
  const rows: Array<{ title: string; panels: Panel[] }> = [];
  for (const panel of board.panels) {
    if (panel.type === "row") rows.push({ title: panel.title, panels: [] });
    else rows.at(-1)?.panels.push(panel);
  }
  return rows;
}

const OBJECTIVES_JSON = () => JSON.parse(committed("objectives.json")) as { uid: string; panels: Panel[] };

/** Each recorded series an Objectives panel may read: the recording rules' names, and no other. */
const RECORDED = new Set([
  ...["events", "bad_events", "error_ratio"].flatMap((what) => ["5m", "30m", "1h", "2h", "6h", "1d", "3d"].map((w) => `phabmon:slo_${what}:rate${w}`)),
  "phabmon:slo_error_ratio:rate28d",
]);

/** Runs the expressions on made-up recorded series with promtool's unit tester (it compares exactly). */
async function evaluate(series: Array<[string, string]>, cases: Array<{ expr: string; at: string; labels: string; value: number }>) {
  const dir = mkdtempSync(join(tmpdir(), "phabmon-slo-panels-"));
  const file = join(dir, "panels.test.yml");
  const input = series.map(([name, values]) => `      - series: ${JSON.stringify(name)}\n        values: ${JSON.stringify(values)}`).join("\n");
  const exprs = cases
    .map(
      (c) =>
        `      - expr: ${JSON.stringify(concreteExpr(c.expr))}\n        eval_time: ${c.at}\n        exp_samples:\n          - labels: ${JSON.stringify(c.labels)}\n            value: ${c.value}`,
    )
    .join("\n");
  writeFileSync(file, `rule_files: []\ntests:\n  - interval: 1m\n    input_series:\n${input}\n    promql_expr_test:\n${exprs}\n`);
  return promtool(["test", "rules", file]);
}

describe("the Objectives dashboard", () => {
  it("has one row per objective of OBJECTIVES, in their order, each with its four panels; a new objective brings its row", () => {
    const rows = objectiveRows(OBJECTIVES_JSON());
    expect(OBJECTIVES_JSON().uid).toBe("phabmon-slo");
    expect(rows.map((r) => r.title.split(":")[0])).toEqual(OBJECTIVES.map((o) => o.name));
    for (const [i, row] of rows.entries()) {
      const o = OBJECTIVES[i] as Objective;
      expect(row.panels.map((p) => `${p.type}: ${p.title}`)).toEqual([
        `stat: ${o.name}: error budget left`,
        `timeseries: ${o.name}: error budget left over time`,
        `timeseries: ${o.name}: burn rate`,
        `timeseries: ${o.name}: events that spent it`,
      ]);
    }
    const another = { ...(OBJECTIVES[0] as Objective), name: "review_time", target: 0.9 } as unknown as Objective;
    const grown = objectiveRows(JSON.parse(JSON.stringify(objectivesDashboard([...OBJECTIVES, another]))) as { panels: Panel[] });
    expect(grown.length).toBe(OBJECTIVES.length + 1);
    const added = grown.at(-1)?.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)) ?? [];
    expect(added.length).toBe(1 + 1 + BURN_ALERTS.length + 2);
    for (const expr of added) expect(expr).toContain('objective="review_time"');
    expect(added.filter((expr) => expr.includes("/ (1 - 0.9)")).length).toBe(1 + 1 + BURN_ALERTS.length);
  });

  it("reads only the recording rules, each selector with the job matcher, the deployment variable and its own objective", () => {
    for (const [i, row] of objectiveRows(OBJECTIVES_JSON()).entries()) {
      const o = OBJECTIVES[i] as Objective;
      const exprs = row.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
      expect(exprs.length).toBe(1 + 1 + BURN_ALERTS.length + 2);
      for (const expr of exprs) {
        // No raw histogram: what is an event and what is a bad one is the rules' to say, once.
        expect(expr, expr).not.toMatch(/\bphabmon_/);
        const selectors = [...expr.matchAll(/(phabmon:[a-z_0-9:]+)(\{[^}]*\})?/g)];
        expect(selectors.length, expr).toBeGreaterThan(0);
        for (const [, name, matchers] of selectors) {
          expect(RECORDED.has(name as string), `${name} is no recording rule`).toBe(true);
          expect(matchers).toBe(`{job=~"phabricator-repo-monitor.*", job=~"$job", objective="${o.name}"}`);
        }
      }
    }
  });

  it("compute the budget left, the burn rate and the events per bar from the recorded series, and keep NaN a NaN (promtool)", async () => {
    const [budget, , burn, events] = objectiveRows(OBJECTIVES_JSON())[0]?.panels ?? [];
    const job = 'job="phabricator-repo-monitor"';
    const labels = `{${job}, objective="replication"}`;
    const exprs = (p: Panel | undefined) => (p?.targets ?? []).map((t) => t.expr);
    const [budgetExpr] = exprs(budget);
    const result = await evaluate(
      [
        // Half the budget spent (0–10 min), then twice of it (11–21 min), then no event in 28 days (0 ÷ 0).
        [`phabmon:slo_error_ratio:rate28d${labels}`, "0.005x10 0.02x10 NaN"],
        [`phabmon:slo_error_ratio:rate1h${labels}`, "0.144x20"],
        [`phabmon:slo_error_ratio:rate6h${labels}`, "0.06x20"],
        [`phabmon:slo_error_ratio:rate3d${labels}`, "0.01x20"],
        // 0.1 events a second, 0.01 bad: 30 and 3 in a 5-minute bar.
        [`phabmon:slo_events:rate5m${labels}`, "0.1x20"],
        [`phabmon:slo_bad_events:rate5m${labels}`, "0.01x20"],
        // Another job's and another objective's series never show.
        [`phabmon:slo_error_ratio:rate28d{job="node", objective="replication"}`, "0.5x20"],
        [`phabmon:slo_events:rate5m{${job}, objective="git_sync"}`, "7x20"],
      ],
      [
        { expr: `round(${budgetExpr}, 0.001)`, at: "5m", labels, value: 0.5 },
        { expr: `round(${budgetExpr}, 0.001)`, at: "15m", labels, value: -1 },
        // NaN stays NaN (shown "No data"), never a 0 or a full budget: count the NaN samples.
        { expr: `count((${budgetExpr}) != (${budgetExpr}))`, at: "22m", labels: "{}", value: 1 },
        ...exprs(burn).map((expr, i) => ({ expr: `round(${expr}, 0.001)`, at: "10m", labels, value: (BURN_ALERTS[i] as { factor: number }).factor })),
        ...exprs(events).map((expr, i) => ({ expr: `round(${expr}, 0.001)`, at: "15m", labels, value: [30, 3][i] as number })),
      ],
    );
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("draw the budget's red and orange and the burn-rate alerts' factors, and show NaN and no value as No data", () => {
    for (const row of objectiveRows(OBJECTIVES_JSON())) {
      const [now, overTime, burn, events] = row.panels as [Panel, Panel, Panel, Panel];
      const budgetSteps = [
        { value: null, color: "red" },
        { value: 0, color: "orange" },
        { value: BUDGET_LOW, color: "green" },
      ];
      expect(now.fieldConfig?.defaults.thresholds?.steps).toEqual(budgetSteps);
      expect(overTime.fieldConfig?.defaults.thresholds?.steps).toEqual(budgetSteps);
      expect(overTime.fieldConfig?.defaults.custom?.thresholdsStyle?.mode).toBe("dashed");
      expect(now.fieldConfig?.defaults.unit).toBe("percentunit");
      const factors = BURN_ALERTS.map((a) => a.factor).sort((a, b) => a - b);
      expect(burn.fieldConfig?.defaults.thresholds?.steps.map((s) => s.value)).toEqual([null, ...factors]);
      expect(burn.fieldConfig?.defaults.custom?.thresholdsStyle?.mode).toBe("dashed");
      expect(burn.targets?.map((t) => /:rate(\w+)\{/.exec(t.expr)?.[1])).toEqual(["1h", "6h", "3d"]);
      expect(events.fieldConfig?.defaults.custom?.drawStyle).toBe("bars");
      expect(events.interval).toBe("5m");
      // The last value, NaN included: lastNotNull would show a stale number when the ratio is unknown.
      expect(now.options?.reduceOptions?.calcs).toEqual(["last"]);
      expect(now.fieldConfig?.defaults.mappings).toContainEqual({
        type: "special",
        options: { match: "null+nan", result: { text: "No data", color: "text", index: 0 } },
      });
      for (const panel of row.panels) expect(panel.fieldConfig?.defaults.noValue, panel.title).toBe("No data");
      for (const panel of [overTime, burn, events]) expect(panel.options?.legend?.showLegend, panel.title).toBe(true);
    }
  });

  it("say in each panel's description the objective with its numbers and how the value is computed, and link the burn alerts' runbooks", () => {
    for (const [i, row] of objectiveRows(OBJECTIVES_JSON()).entries()) {
      const o = OBJECTIVES[i] as Objective;
      for (const panel of row.panels) {
        const text = panel.description ?? "";
        expect(text, panel.title).toContain(`Objective ${o.name}: ${Math.round(o.target * 100)} % of ${o.description}`);
        expect(text, panel.title).toContain(`within ${o.thresholdSeconds} s), over ${o.windowDays} days`);
        for (const name of new Set((panel.targets ?? []).flatMap((t) => t.expr.match(/phabmon:[a-z_0-9:]+/g) ?? []))) {
          expect(text, `${panel.title} does not say it reads ${name}`).toContain(name.replace(/rate(1h|6h|3d)$/, "rate<window>"));
        }
        expect(panel.links?.map((l) => l.url.split("#")[1])).toEqual(BURN_ALERTS.map((a) => a.alert.toLowerCase()));
      }
      const burn = row.panels[2]?.description ?? "";
      for (const a of BURN_ALERTS) expect(burn).toContain(`${a.alert} ${a.action} at ${a.factor}× over ${a.long} and ${a.short}`);
    }
  });

  it("draw the factors and windows of the burn-rate alerts of phabmon.slo.rules.yml", () => {
    const text = readFileSync(SLO_RULES, "utf8");
    for (const a of BURN_ALERTS) {
      const block = text.split(/\n(?= {6}- )/).find((b) => b.includes(`- alert: ${a.alert}\n`)) ?? "";
      expect(block, `${a.alert} is not in ${SLO_RULES}`).not.toBe("");
      expect(block, a.alert).toContain(`:rate${a.long}`);
      expect(block, a.alert).toContain(`:rate${a.short}`);
      expect(block, a.alert).toMatch(new RegExp(`\\b${String(a.factor).replace(".", "\\.")}\\b`));
      expect(block, a.alert).toMatch(new RegExp(`severity: ${a.action === "pages" ? "critical" : "warning"}`));
    }
  });
});

describe("alert rules", () => {
  it("pass promtool check rules and their promtool unit tests", async () => {
    const check = await promtool(["check", "rules", RULES]);
    expect(check.output).toContain("SUCCESS: 23 rules found");
    expect(check.code).toBe(0);
    const test = await promtool(["test", "rules", RULE_TESTS]);
    expect(test.output).toContain("SUCCESS");
    expect(test.code).toBe(0);
  });

  // The objectives' burn-rate rules, generated (their shape: test/grafana/slo-rules.test.ts): the fast
  // outage pages in its first hour, blips stay quiet, an unknown lag keeps burning, and a slow
  // degradation tickets. Three promtool runs of a few hundred evaluations each: tens of seconds.
  it("the objectives' rules pass promtool check rules and their promtool unit tests", { timeout: 180_000 }, async () => {
    const check = await promtool(["check", "rules", SLO_RULES]);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
    for (const file of SLO_RULE_TESTS) {
      const test = await promtool(["test", "rules", file], undefined, 170_000);
      expect(test.output, file).toContain("SUCCESS");
      expect(test.code, file).toBe(0);
    }
  });

  it("each has a for:, a severity, a summary, a description, a runbook_url, and a firing and a quiet test", () => {
    const tests = readFileSync(RULE_TESTS, "utf8");
    const rules = alertRules();
    expect(rules.map((r) => r.name)).toEqual([
      "PhabmonReplicationLagHigh",
      "PhabmonReplicationLagCritical",
      "PhabmonReplicationLagUnknown",
      "PhabmonNoInput",
      "PhabmonInputRejected",
      "PhabmonChecksFailing",
      "PhabmonCheckStale",
      "PhabmonDown",
      "PhabmonPulseDisconnected",
      "PhabmonPulseDown",
      "PhabmonPulseFlapping",
      "PhabmonQueueBacklog",
      "PhabmonQueueNearDeletion",
      "PhabmonWatchedQueueBacklog",
      "PhabmonTryPushLatencyHigh",
      "PhabmonReviewTimeHigh",
      "PhabmonReviewsStuck",
      "PhabmonPipelineBlind",
      "PhabmonPipelineChecksFailing",
      "PhabmonPipelineCheckStale",
      "PhabmonSyncLagHigh",
      "PhabmonSyncLagUnknown",
      "PhabmonSyncChecksFailing",
    ]);
    // The burn-rate alerts, generated: the same checks, against their own test files.
    const sloTests = SLO_RULE_TESTS.map((f) => readFileSync(f, "utf8")).join("\n");
    const all = [...rules.map((rule) => ({ rule, cases: tests })), ...alertRules(SLO_RULES).map((rule) => ({ rule, cases: sloTests }))];
    expect(new Set(alertRules(SLO_RULES).map((r) => r.name))).toEqual(
      new Set(["PhabmonErrorBudgetBurnFast", "PhabmonErrorBudgetBurnMedium", "PhabmonErrorBudgetBurnSlow"]),
    );
    for (const { rule, cases: ruleTests } of all) {
      // Every series the expression reads is this service's job's, so another job's series of the same
      // name never mixes in; and staging and production (two job names) are kept apart by `job` in
      // every aggregation and match.
      const expr = /\n {8}expr: (?:\|\n)?([\s\S]*?)\n {8}for:/.exec(rule.block)?.[1] ?? "";
      for (const selector of expr.matchAll(/\b(phabmon[_:][a-z_:0-9]+|process_[a-z_]+|up)\b(\{[^}]*\})?/g)) {
        expect(selector[2] ?? "", `${rule.name}: ${selector[0]}`).toMatch(/^\{job=~"phabricator-repo-monitor\.\*"/);
      }
      for (const by of expr.matchAll(/\b(?:by|on) \(([^)]*)\)/g)) {
        if ((by[1] as string).trim() !== "") expect(by[1], `${rule.name}: ${by[0]}`).toMatch(/\bjob\b/);
      }
      expect(rule.block, rule.name).toMatch(/\n {8}for: \d+[mh]\n/);
      expect(rule.block, rule.name).toMatch(/\n {10}severity: (warning|critical)\n/);
      expect(rule.block, rule.name).toMatch(/\n {10}summary: "/);
      expect(rule.block, rule.name).toMatch(/\n {10}description: "/);
      // Its address (RUNBOOK_BASE and the name) and its section: test/grafana-consistency.test.ts.
      expect(rule.block, rule.name).toMatch(/\n {10}runbook_url: "/);
      // Firing: an exp_alerts list with an alert; quiet: an empty one.
      const cases = [...ruleTests.matchAll(new RegExp(`alertname: ${rule.name}\\n {8}exp_alerts:( \\[\\])?`, "g"))];
      expect(
        cases.some((c) => c[1] === " []"),
        `${rule.name} never tested quiet`,
      ).toBe(true);
      expect(
        cases.some((c) => c[1] === undefined),
        `${rule.name} never tested firing`,
      ).toBe(true);
    }
  });
});

describe("Grafana provisioning", () => {
  it("points a file provider at the dashboards and defines the Prometheus datasource the dashboards default to", () => {
    const provider = readFileSync(join(ROOT, "grafana/provisioning/dashboards/phabricator-repo-monitor.yml"), "utf8");
    expect(provider).toMatch(/^apiVersion: 1$/m);
    expect(provider).toMatch(/type: file/);
    expect(provider).toMatch(/path: \/etc\/grafana\/dashboards\/phabricator-repo-monitor/);
    const datasource = readFileSync(join(ROOT, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(datasource).toMatch(/^apiVersion: 1$/m);
    expect(datasource).toMatch(/type: prometheus/);
    expect(datasource).toMatch(/url: \$\{PROMETHEUS_URL\}/);
  });
});
