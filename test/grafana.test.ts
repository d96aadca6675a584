// The operations kit as code: dashboards built from grafana/src, every expression parsed by promtool,
// alert rules checked and unit-tested by promtool, each with a runbook in docs/runbooks.md.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DASHBOARDS, THRESHOLDS, renderDashboard } from "../grafana/src/dashboards.ts";
import { ROOT } from "./support/harness.ts";
import { RULE_TESTS, RULES, alertRules, checkExpressions, dashboardExpressions, promtool } from "./support/promtool.ts";

import type { DashboardJson } from "./support/promtool.ts";

function committed(file: string): string {
  return readFileSync(join(ROOT, "grafana/dashboards", file), "utf8");
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
    for (const rule of alertRules()) expect(linked.has(rule.name.toLowerCase()), `no panel links the runbook of ${rule.name}`).toBe(true);
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
    expect(annotations.length).toBe(2);
    expect((await checkExpressions(annotations)).code).toBe(0);
    const result = await checkExpressions(dashboardExpressions());
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
    // And the check is a real one: a broken expression fails it.
    expect((await checkExpressions(["sum by (le (rate(phabmon_checks_total[5m]))"])).code).not.toBe(0);
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
    for (const rule of rules) {
      // Every series the expression reads is this service's job's, so another job's series of the same
      // name never mixes in; and staging and production (two job names) are kept apart by `job` in
      // every aggregation and match.
      const expr = /\n {8}expr: (?:\|\n)?([\s\S]*?)\n {8}for:/.exec(rule.block)?.[1] ?? "";
      for (const selector of expr.matchAll(/\b(phabmon_[a-z_]+|process_[a-z_]+|up)\b(\{[^}]*\})?/g)) {
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
      const cases = [...tests.matchAll(new RegExp(`alertname: ${rule.name}\\n {8}exp_alerts:( \\[\\])?`, "g"))];
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
