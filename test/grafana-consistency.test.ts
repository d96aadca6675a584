// The runbook address held to one constant (grafana/src/links.ts): no binary needed, so these run
// with the unit tests.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RUNBOOK_BASE } from "../grafana/src/links.ts";
import { ROOT } from "./support/harness.ts";
import { alertRules } from "./support/promtool.ts";

describe("runbook links", () => {
  it("every alert's runbook_url is RUNBOOK_BASE (grafana/src/links.ts) and its name lower-cased", () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(20);
    for (const rule of rules) {
      const url = /\n {10}runbook_url: "([^"]+)"/.exec(rule.block)?.[1];
      expect(url, rule.name).toBe(`${RUNBOOK_BASE}${rule.name.toLowerCase()}`);
    }
  });

  // docs/runbooks.md is written with the docs (issue #28); until it is in the tree there is nothing to hold.
  const runbooks = join(ROOT, "docs/runbooks.md");
  it.skipIf(!existsSync(runbooks))("docs/runbooks.md has a `## <AlertName>` section for every alert", () => {
    const headings = new Set([...readFileSync(runbooks, "utf8").matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1]));
    for (const rule of alertRules()) expect(headings.has(rule.name), `docs/runbooks.md has no "## ${rule.name}"`).toBe(true);
  });
});
