// The README's list of series is the list the service exports, and the contract's names are all in it:
// the app built with every check on (a token, Try, GIT_BRANCHES, QUEUE_DEPTH_QUEUES, a `:git`
// repository), nothing connected, its registry read.
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../../src/app/build-app.ts";
import { readConfig } from "../../src/config/config.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const CONTRACT = readFileSync(new URL("../../../shared/docs/contract.md", import.meta.url), "utf8");

/** The `phabmon_` names in the first column of a markdown table's rows in `text`, with each row's type. */
function tableNames(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (!line.startsWith("| `phabmon_") || cells.length < 4) continue;
    for (const [name] of (cells[1] as string).matchAll(/phabmon_[a-z_]+/g)) names.set(name, cells[2] as string);
  }
  return names;
}

const section = (text: string, heading: string) => text.slice(text.indexOf(heading), text.indexOf("\n## ", text.indexOf(heading) + 1));

let app: App;
beforeAll(() => {
  const config = readConfig({
    PULSE_URL: "amqp://127.0.0.1:1/",
    PULSE_USERNAME: "monitor",
    PULSE_PASSWORD: "a-pulse-password",
    PULSE_QUEUE_NAME: "phabricator-repo-monitor",
    REPOSITORIES: "integration/autoland=AUTOLAND:git,mozilla-central=MOZILLACENTRAL",
    PHABRICATOR_API_TOKEN: "api-abcdefghijklmnopqrstuvwxyz12",
    CODE_REVIEW_TRY_REPOSITORY: "try",
    GIT_BRANCHES: "autoland=integration/autoland",
    QUEUE_DEPTH_QUEUES: "queue/other/watched",
  });
  app = buildApp({ config, log: pino({ level: "silent" }), version: { source: "", version: "0", commit: "t", build: "local" }, readOnly: true });
  expect(app.table.every((entry) => entry.check !== undefined)).toBe(true);
});
afterAll(() => app.close());

describe("the series the service exports", () => {
  it("are exactly the README's list, each with the README's type", async () => {
    const exported = new Map((await app.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith("phabmon_")).map((m) => [m.name, String(m.type)]));
    const listed = tableNames(section(README, "## Metrics"));
    expect([...exported.keys()].sort()).toEqual([...listed.keys()].sort());
    for (const [name, type] of exported) expect(`${name} ${listed.get(name)}`).toBe(`${name} ${type}`);
  });

  it("include every name the contract lists", () => {
    const listed = tableNames(section(README, "## Metrics"));
    const contract = [...tableNames(CONTRACT).keys()];
    expect(contract.length).toBeGreaterThan(20);
    expect(contract.filter((name) => !listed.has(name))).toEqual([]);
  });
});
