// Every runbook link resolves: each alert's runbook_url and each dashboard link names a `## <AlertName>`
// section of docs/runbooks.md, and every alert-like section is an alert of the rules. GitHub makes a
// heading's anchor by lower-casing it, dropping punctuation but hyphens, and turning spaces into hyphens
// (https://github.com/gjtorikian/html-pipeline, TableOfContentsFilter), so `## PhabmonDown` is #phabmondown.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RUNBOOK_BASE } from "../../grafana/src/links.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RUNBOOKS = readFileSync(join(ROOT, "docs/runbooks.md"), "utf8");
// The hand-written rules and the objectives' generated burn-rate rules.
const RULES = ["phabmon.rules.yml", "phabmon.slo.rules.yml"].map((f) => readFileSync(join(ROOT, "grafana/alerts", f), "utf8")).join("\n");

const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

/** The `## ` headings, by their anchors. */
const sections = new Map([...RUNBOOKS.matchAll(/^## (.+)$/gm)].map((m) => [slug(m[1] as string), m[1] as string]));
const alertLike = (heading: string) => /^Phabmon[A-Z][A-Za-z]*$/.test(heading);

/** Each alert rule's name and runbook_url, one `- alert:` block each. */
const rules = RULES.split(/\n(?= {6}- alert: )/)
  .slice(1)
  .map((block) => ({
    name: /- alert: (\S+)/.exec(block)?.[1] as string,
    runbookUrl: /\n {10}runbook_url: "([^"]+)"/.exec(block)?.[1],
  }));

/** The text of a section, from its heading to the next `## `. */
function sectionText(heading: string): string {
  const start = RUNBOOKS.indexOf(`\n## ${heading}\n`);
  const next = RUNBOOKS.indexOf("\n## ", start + 1);
  return RUNBOOKS.slice(start, next === -1 ? undefined : next);
}

describe("runbook links", () => {
  it("every alert of the rules has a runbook_url of the runbooks' base whose anchor is its own `## ` section", () => {
    expect(rules.length).toBeGreaterThanOrEqual(22);
    expect(rules.map((r) => r.name)).toContain("PhabmonErrorBudgetBurnSlow");
    for (const { name, runbookUrl } of rules) {
      expect(runbookUrl, name).toBe(`${RUNBOOK_BASE}${name.toLowerCase()}`);
      expect(sections.get(name.toLowerCase()), `docs/runbooks.md has no "## ${name}"`).toBe(name);
    }
  });

  it("every alert-like section of docs/runbooks.md is an alert of the rules", () => {
    const alerts = new Set(rules.map((r) => r.name));
    expect([...sections.values()].filter((h) => alertLike(h) && !alerts.has(h))).toEqual([]);
  });

  it("every runbook link in the generated dashboards names a section", () => {
    const dir = join(ROOT, "grafana/dashboards");
    let links = 0;
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const [url] of text.matchAll(/https:\/\/github\.com\/mozilla-conduit\/phabricator-repo-monitor\/blob\/[^"]*/g)) {
        expect(url.startsWith(RUNBOOK_BASE), `${file}: ${url}`).toBe(true);
        expect(sections.has(url.slice(RUNBOOK_BASE.length)), `${file}: ${url} names no section of docs/runbooks.md`).toBe(true);
        links++;
      }
    }
    expect(links).toBeGreaterThan(0);
  });

  it("every link inside docs/runbooks.md to one of its own anchors resolves", () => {
    const anchors = new Set([...RUNBOOKS.matchAll(/^#{1,4} (.+)$/gm)].map((m) => slug(m[1] as string)));
    const internal = [...RUNBOOKS.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] as string);
    expect(internal.length).toBeGreaterThan(0);
    for (const anchor of internal) expect(anchors.has(anchor), `#${anchor}`).toBe(true);
  });

  it("every alert's section says what it means for users, its severity and owner, and gives numbered steps", () => {
    for (const heading of [...sections.values()].filter(alertLike)) {
      const text = sectionText(heading);
      expect(text, heading).toContain("**For users");
      expect(text, heading).toMatch(/\*\*Severity:\*\* (warning|critical)/);
      expect(text, heading).toContain("**Owner:**");
      expect(text, heading).toMatch(/^1\. /m);
    }
  });
});
