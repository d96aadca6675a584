// What grafana/README.md and the provisioning say about the Alertmanager example and the dashboards,
// held to the files themselves (the runbook addresses: test/grafana/runbook-links.test.ts): no binary
// needed, so these run with the unit tests.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inhibitRules, routeGroupBy, type InhibitRule } from "./support/alertmanager-config.ts";
import { ROOT } from "./support/harness.ts";
import { SLO_RULES, alertRules } from "./support/promtool.ts";

const README = readFileSync(join(ROOT, "grafana/README.md"), "utf8");
const EVERY_OTHER = "every other Phabmon alert";

/** One inhibition as the README's table says it: who silences, whom, and on which labels. */
interface Inhibition {
  sources: string[];
  withoutJob: boolean;
  /** The burn-rate alerts' `objective` a source is limited to, if any. */
  objective: string | undefined;
  targets: string[] | typeof EVERY_OTHER;
  equal: string[];
}

function alertnames(matcher: string): { op: string; names: string[] } {
  const m = /^alertname(=~|!=|=)"([^"]*)"$/.exec(matcher);
  if (!m) throw new Error(`not an alertname matcher: ${matcher}`);
  return { op: m[1] as string, names: (m[2] as string).split("|") };
}

/** An inhibit rule of the YAML in the table's terms; a matcher the table cannot say fails the test. */
function fromYaml(rule: InhibitRule): Inhibition {
  const withoutJob = rule.source_matchers.includes('job=""');
  const objective = rule.source_matchers.map((m) => /^objective="([a-z_]+)"$/.exec(m)?.[1]).find((o) => o !== undefined);
  const source = rule.source_matchers.filter((m) => m !== 'job=""' && !m.startsWith("objective="));
  if (source.length !== 1) throw new Error(`source matchers the README table cannot say: ${rule.source_matchers.join(", ")}`);
  const sources = alertnames(source[0] as string);
  if (sources.op === "!=") throw new Error(`a negative source: ${source[0]}`);
  const targets = rule.target_matchers.map(alertnames);
  const everyOther =
    targets.length === 2 &&
    targets[0]?.op === "=~" &&
    targets[0].names.join() === "Phabmon.+" &&
    targets[1]?.op === "!=" &&
    targets[1].names.join() === sources.names.join();
  if (!everyOther && (targets.length !== 1 || targets[0]?.op === "!="))
    throw new Error(`target matchers the README table cannot say: ${rule.target_matchers.join(", ")}`);
  return { sources: sources.names, withoutJob, objective, targets: everyOther ? EVERY_OTHER : (targets[0]?.names ?? []), equal: rule.equal };
}

/** The rows of the README's inhibition table ("| while this fires | these are silenced | on the same |"). */
function fromReadme(): Inhibition[] {
  const section = README.slice(README.indexOf("| while this fires |"));
  const rows = section.split("\n\n")[0]?.split("\n").slice(2) ?? [];
  return rows.map((row) => {
    const [fires, silenced, same] = row
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim()) as [string, string, string];
    return {
      sources: fires.match(/Phabmon[A-Za-z]+/g) ?? [],
      withoutJob: /without a `job` label/.test(fires),
      objective: /with `objective="([a-z_]+)"`/.exec(fires)?.[1],
      targets: silenced === EVERY_OTHER ? EVERY_OTHER : (silenced.match(/Phabmon[A-Za-z]+/g) ?? []),
      equal: same === "(any)" ? [] : [...same.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string),
    };
  });
}

describe("grafana/README.md and alertmanager.example.yml", () => {
  it("the inhibition table says the file's inhibit_rules, in order, naming only alerts that exist", () => {
    const yaml = inhibitRules();
    // The reader found every rule the file has (amtool counts them too: test/alertmanager.test.ts).
    expect(yaml.length).toBe(readFileSync(join(ROOT, "grafana/alertmanager/alertmanager.example.yml"), "utf8").match(/^ {2}- source_matchers:/gm)?.length);
    expect(fromReadme()).toEqual(yaml.map(fromYaml));
    const known = new Set([...alertRules(), ...alertRules(SLO_RULES)].map((r) => r.name));
    for (const row of fromReadme()) {
      for (const name of [...row.sources, ...(row.targets === EVERY_OTHER ? [] : row.targets)]) expect(known.has(name), `${name} is no alert rule`).toBe(true);
    }
  });

  it("the grouping sentence says the route's group_by, in order", () => {
    const sentence = /grouped by ((?:`[a-z_]+`(?:, | and )?)+)/.exec(README)?.[1] ?? "";
    expect([...sentence.matchAll(/`([a-z_]+)`/g)].map((m) => m[1])).toEqual(routeGroupBy());
  });

  it("the Grafana version stated is the dashboards' schemaVersion's, and the provisioning says the same", () => {
    const stated = /dashboard `schemaVersion` (\d+)/.exec(README)?.[1];
    const grafana = /\*\*Grafana (\d+\.\d+) or later\*\*/.exec(README)?.[1];
    expect(stated).toBeDefined();
    const dir = join(ROOT, "grafana/dashboards");
    for (const file of readdirSync(dir)) {
      expect((JSON.parse(readFileSync(join(dir, file), "utf8")) as { schemaVersion: number }).schemaVersion, file).toBe(Number(stated));
    }
    const provider = readFileSync(join(ROOT, "grafana/provisioning/dashboards/phabricator-repo-monitor.yml"), "utf8");
    expect(provider).toContain(`need Grafana ${grafana} or later (their schemaVersion ${stated};`);
  });
});
