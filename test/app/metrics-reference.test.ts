// docs/metrics.md is what `npm run docs:metrics` writes today, and it names exactly what /metrics of
// the service with every check on exports (names, types, label names, HELP), and every series the
// contract names: the app built as the generator builds it (scripts/fully-configured-app.ts), nothing
// connected, its /metrics text parsed.
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app/build-app.ts";
import { PREFIX, describeMetrics, renderMetricsReference } from "../../src/app/metrics-reference.ts";
import { buildFullyConfiguredApp } from "../../scripts/fully-configured-app.ts";

const DOC = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
// The contract is read through ../shared, beside the checkout; a clone elsewhere has none to hold to.
const CONTRACT_FILE = new URL("../../../shared/docs/contract.md", import.meta.url);

/** Names the contract once listed that were replaced on purpose, with what replaced them. */
const RETIRED: Readonly<Record<string, string>> = {
  phabmon_oldest_unverified_push_info: "phabmon_oldest_unverified_push_id and phabmon_oldest_unverified_push_missing_commits",
};

interface Family {
  type: string;
  help: string;
  /** The label names of its samples (`le` left out); empty when it has none yet. */
  labels: Set<string>;
  samples: number;
}

const HELP_ESCAPES: Record<string, string> = { "\\\\": "\\", "\\n": "\n" };

/** The families of a text exposition (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format). */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => families.get(name) ?? families.set(name, { type: "", help: "", labels: new Set(), samples: 0 }).get(name)!;
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, what, name, rest] = meta as unknown as [string, string, string, string];
      if (what === "TYPE") family(name).type = rest;
      else family(name).help = rest.replace(/\\\\|\\n/g, (e) => HELP_ESCAPES[e] ?? e);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const [, name, labels = ""] = sample as unknown as [string, string, string | undefined];
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    const f = families.get(base);
    if (f === undefined) throw new Error(`a sample of no family: ${line}`);
    f.samples += 1;
    for (const [, label] of labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) if (label !== "le") f.labels.add(label as string);
  }
  return families;
}

/** The rows of docs/metrics.md's table of series: name, type (first word), label names, meaning. */
function documented(text: string): Map<string, { type: string; labels: string[]; meaning: string }> {
  const rows = new Map<string, { type: string; labels: string[]; meaning: string }>();
  for (const line of text.split("\n")) {
    const row = /^\| `([a-z0-9_]+)` \| ([a-z]+)[^|]* \| ([^|]*) \| (.*) \|$/.exec(line);
    if (!row) continue;
    const [, name, type, labels, meaning] = row as unknown as [string, string, string, string, string];
    const names = labels.split(",").map((l) => l.trim());
    rows.set(name, { type, labels: names.filter((l) => l !== ""), meaning: meaning.replace(/\\([|\\])/g, "$1") });
  }
  return rows;
}

/** The `phabmon_` names in the first column of every markdown table of `text`. */
function tableNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("| `phabmon_")) continue;
    for (const [name] of (line.split("|")[1] as string).matchAll(/phabmon_[a-z_]+/g)) names.add(name);
  }
  return names;
}

let app: App;
let exported: Map<string, Family>;
beforeAll(async () => {
  app = buildFullyConfiguredApp();
  // What the /metrics handler sends (src/http/server.ts, metricsHandler).
  exported = parseExposition(await app.registry.metrics());
});
afterAll(() => app.close());

describe("docs/metrics.md", () => {
  it("is what the registry of the fully configured app generates", () => {
    expect(DOC, "docs/metrics.md is out of date: run npm run docs:metrics").toBe(renderMetricsReference(describeMetrics(app.registry)));
  });

  it("lists exactly the service's series /metrics exports, each with its type and HELP", () => {
    const rows = documented(DOC);
    const own = [...exported.keys()].filter((name) => name.startsWith(PREFIX));
    expect([...rows.keys()].sort()).toEqual(own.sort());
    for (const name of own) {
      const { type, help } = exported.get(name)!;
      expect({ name, type: rows.get(name)?.type, meaning: rows.get(name)?.meaning }).toEqual({ name, type, meaning: help });
    }
  });

  it("gives each series the label names of its samples on /metrics", () => {
    const rows = documented(DOC);
    const sampled = [...exported].filter(([name, f]) => name.startsWith(PREFIX) && f.samples > 0);
    // Most series are exported from the start; those with none yet are checked by their declaration only.
    expect(sampled.length).toBeGreaterThan(30);
    for (const [name, f] of sampled) expect({ name, labels: [...f.labels].sort() }).toEqual({ name, labels: [...(rows.get(name)?.labels ?? [])].sort() });
  });

  it("sums up the others in one line: prom-client's process and Node.js metrics, as many as /metrics has", () => {
    const others = [...exported.keys()].filter((name) => !name.startsWith(PREFIX));
    expect(others.filter((name) => !/^(process|nodejs)_/.test(name))).toEqual([]);
    expect(DOC).toContain(`exports ${others.length} of prom-client's default process and Node.js metrics`);
    // The declarations the generator reads are what /metrics exports, families and all.
    expect(describeMetrics(app.registry).map((m) => m.name)).toEqual([...exported.keys()].sort());
  });

  it.skipIf(!existsSync(CONTRACT_FILE))("includes every series the contract names, except those retired on purpose", () => {
    const rows = documented(DOC);
    const contract = [...tableNames(readFileSync(CONTRACT_FILE, "utf8"))];
    expect(contract.length).toBeGreaterThan(20);
    expect(contract.filter((name) => !rows.has(name) && RETIRED[name] === undefined)).toEqual([]);
    for (const name of Object.keys(RETIRED)) expect(rows.has(name), `${name} was retired`).toBe(false);
  });
});
