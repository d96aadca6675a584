// Debian's `prometheus` package: promtool for rules and expressions, and the server itself.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./harness.ts";

export const RULES = join(ROOT, "grafana/alerts/phabmon.rules.yml");
export const RULE_TESTS = join(ROOT, "grafana/alerts/phabmon.rules.test.yml");

/** Runs promtool; resolves with its exit code and output instead of throwing. */
export async function promtool(args: string[], stdin?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile("promtool", args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && code === 127 ? `\n${error.message} (install Debian's prometheus package)` : ""}` });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Dashboard variables and Grafana's interval macros, replaced so that promtool can parse the expression. */
export function concreteExpr(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__interval_ms", "300000")
    .replaceAll("$__interval", "5m")
    .replaceAll("$repository", ".*")
    .replaceAll("$queue", ".*")
    .replaceAll("$job", ".*");
}

/** promtool check rules on the expressions, each as a recording rule: it parses every one of them. */
export async function checkExpressions(exprs: readonly string[]): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "phabmon-exprs-"));
  const file = join(dir, "exprs.rules.yml");
  const rules = exprs.map((expr, i) => `      - record: phabmon_dashboard_expression_${i}\n        expr: ${JSON.stringify(concreteExpr(expr))}`).join("\n");
  writeFileSync(file, `groups:\n  - name: dashboard-expressions\n    rules:\n${rules}\n`);
  return promtool(["check", "rules", file]);
}

/** The metric names an expression reads (phabmon_… only). */
export function metricsIn(expr: string): string[] {
  return [...new Set(expr.match(/\bphabmon_[a-z_]+\b/g) ?? [])];
}

export function readRules(): string {
  return readFileSync(RULES, "utf8");
}

export interface DashboardJson {
  uid: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
  templating: { list: Array<{ type: string; name: string; query: unknown }> };
}

/** Every expression the committed dashboards query. */
export function dashboardExpressions(): string[] {
  const dir = join(ROOT, "grafana/dashboards");
  return readdirSync(dir).flatMap((file) =>
    (JSON.parse(readFileSync(join(dir, file), "utf8")) as DashboardJson).panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  );
}

/** Each alert rule's name, YAML block and expression (one `- alert:` block each). */
export function alertRules(): Array<{ name: string; block: string; expr: string }> {
  return readRules()
    .split(/\n(?= {6}- alert: )/)
    .slice(1)
    .map((block) => ({
      name: /- alert: (\S+)/.exec(block)?.[1] as string,
      block,
      expr: (/\n {8}expr: (.+)/.exec(block)?.[1] ?? "").trim(),
    }));
}
