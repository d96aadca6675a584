// Reads the parts of grafana/alertmanager/alertmanager.example.yml that grafana/README.md restates (the
// inhibit_rules and route.group_by), so a test can hold the two together. The project has no YAML
// library, and this file's YAML is a small, fixed shape: flow lists (`[a, 'b']`) and block lists of
// quoted matchers. Anything else under inhibit_rules throws, so a new form is noticed, not misread.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./harness.ts";

export const ALERTMANAGER_CONFIG = join(ROOT, "grafana/alertmanager/alertmanager.example.yml");

export interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}

/** A YAML scalar as written here: bare, 'single-quoted' ('' is a quote) or "double-quoted" (no escapes used). */
function scalar(text: string): string {
  const t = text.trim();
  if (t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
  if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}

/** `[a, 'b=~"x|y"']`: split on commas outside quotes. */
function flowList(text: string): string[] {
  const inner = text.trim().replace(/^\[/, "").replace(/\]$/, "");
  const items: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const ch of inner) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ",") {
      items.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim() !== "") items.push(current);
  return items.map(scalar);
}

/** The lines of one top-level key's block, comments and blank lines left out. */
function topLevelBlock(yaml: string, key: string): string[] {
  const lines = yaml.split("\n");
  const start = lines.findIndex((l) => l === `${key}:`);
  if (start < 0) throw new Error(`no top-level ${key}:`);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    block.push(line);
  }
  return block;
}

export function inhibitRules(yaml = readFileSync(ALERTMANAGER_CONFIG, "utf8")): InhibitRule[] {
  const rules: InhibitRule[] = [];
  let key: keyof InhibitRule | undefined;
  for (const line of topLevelBlock(yaml, "inhibit_rules")) {
    const field = /^ {2}(- | {2})(source_matchers|target_matchers|equal):(.*)$/.exec(line);
    if (field) {
      if (field[1] === "- ") rules.push({ source_matchers: [], target_matchers: [], equal: [] });
      const rule = rules.at(-1);
      if (!rule) throw new Error(`inhibit_rules: a field before the first rule: ${line}`);
      key = field[2] as keyof InhibitRule;
      const rest = (field[3] as string).trim();
      if (rest !== "") rule[key] = flowList(rest);
      continue;
    }
    const item = /^ {6}- (.+)$/.exec(line);
    if (item && key && rules.length > 0) {
      (rules.at(-1) as InhibitRule)[key].push(scalar(item[1] as string));
      continue;
    }
    throw new Error(`inhibit_rules: a line this reader does not know: ${line}`);
  }
  return rules;
}

export function routeGroupBy(yaml = readFileSync(ALERTMANAGER_CONFIG, "utf8")): string[] {
  const line = topLevelBlock(yaml, "route").find((l) => /^ {2}group_by:/.test(l));
  if (!line) throw new Error("route has no group_by");
  return flowList(line.replace(/^ {2}group_by:/, ""));
}
