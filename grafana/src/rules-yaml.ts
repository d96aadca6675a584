// Prometheus rule files as YAML text, deterministic, in the layout of the hand-written
// grafana/alerts/phabmon.rules.yml (the tests read both files with the same patterns). No YAML library
// is among the dependencies, and this subset needs none: expressions go in literal block scalars
// (`|`), every other string is double-quoted, and JSON's string escapes are valid YAML double-quoted
// escapes (https://yaml.org/spec/1.2.2/#double-quoted-style).
import type { AlertRule, RecordingRule, RuleGroup } from "./slo-rules.ts";

const quoted = (text: string): string => JSON.stringify(text);
/** A label value plain when YAML cannot read it as anything but that string (severity: warning). */
const scalar = (text: string): string => (/^[a-z][a-z_]*$/.test(text) && !/^(true|false|yes|no|on|off|null|y|n)$/.test(text) ? text : quoted(text));

function comment(text: string | undefined, pad: string): string[] {
  return text === undefined ? [] : text.split("\n").map((line) => `${pad}# ${line}`);
}

function expr(text: string): string[] {
  if (!text.includes("\n")) return [`        expr: ${text}`];
  return ["        expr: |", ...text.split("\n").map((line) => `          ${line}`)];
}

function map(key: string, entries: Record<string, string>, value: (text: string) => string): string[] {
  return [`        ${key}:`, ...Object.entries(entries).map(([k, v]) => `          ${k}: ${value(v)}`)];
}

function rule(r: RecordingRule | AlertRule): string[] {
  if ("record" in r) return [`      - record: ${r.record}`, ...comment(r.comment, "        "), ...expr(r.expr), ...map("labels", r.labels, scalar)];
  return [
    `      - alert: ${r.alert}`,
    ...comment(r.comment, "        "),
    ...expr(r.expr),
    `        for: ${r.for}`,
    ...map("labels", r.labels, scalar),
    ...map("annotations", r.annotations, quoted),
  ];
}

/** The rule file: a header comment, then each group and its rules. */
export function renderRules(header: string, groups: readonly RuleGroup[]): string {
  const lines = [...comment(header, ""), "groups:"];
  for (const group of groups) lines.push(`  - name: ${group.name}`, "    rules:", ...group.rules.flatMap(rule));
  return `${lines.join("\n")}\n`;
}
