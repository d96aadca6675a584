// docs/metrics.md, from the registry: each series' name, type, label names and HELP string, as the
// code declares them. `npm run docs:metrics` (scripts/write-metrics-reference.ts) writes it from the
// app built with every check on; test/app/metrics-reference.test.ts fails when the committed file
// differs, or when /metrics exports something else. A meaning is improved in the HELP string, which
// /metrics serves too, not here. Pure: a registry's declarations in, markdown out.
import type { Registry } from "prom-client";
import { STATUSES } from "../replication/repository-status.ts";

export interface MetricDescription {
  name: string;
  type: string;
  help: string;
  labels: readonly string[];
}

/** The service's own series; the others are prom-client's process and Node.js metrics. */
export const PREFIX = "phabmon_";

/**
 * What each label of the service's series says. Every label a series declares must be here: the
 * generator refuses to write a document with a label nobody explained.
 */
export const LABEL_MEANINGS: Readonly<Record<string, string>> = {
  repository: "the hg repository's path on hg.mozilla.org, as in `REPOSITORIES` (e.g. `integration/autoland`)",
  callsign: "the callsign of the Phabricator repository that mirrors it (e.g. `MOZILLACENTRAL`)",
  branch: "the Git branch of `GIT_BRANCHES` (e.g. `autoland`); `repository` is then the hg path it syncs to",
  queue: "the full Pulse queue name (e.g. `queue/<PULSE_USERNAME>/<PULSE_QUEUE_NAME>`): the service's own queues and those of `QUEUE_DEPTH_QUEUES`",
  reason: "a short fixed word (`[a-z_]`): one of those the series' meaning lists",
  status: `on \`phabmon_repository_status\`, the repository's status (${STATUSES.map((s) => `\`${s}\``).join(", ")}); on \`phabmon_upstream_retryable_responses_total\`, the HTTP status answered (e.g. \`429\`, \`503\`)`,
  service: "`hgmo` (hg.mozilla.org) or `phabricator`",
  kind: "`code_review` (the code-review bot's Try pushes) or `other`",
  outcome: "`passed` or `failed`",
  version: "the running build's version (`/__version__`)",
  commit: "the running build's Git commit (`/__version__`)",
};

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Every series the registry declares, by name, read without collecting (no collector runs, so nothing
 * is read from Pulse or anywhere): name, type and help from the registry's public API. The label names
 * are the `labelNames` each metric was declared with; prom-client keeps its configuration on the metric
 * (lib/metric.js, `Object.assign(this, …, config)`) but leaves it out of its typings. The test checks
 * them against the samples /metrics exports.
 */
export function describeMetrics(registry: Registry): MetricDescription[] {
  return registry
    .getMetricsAsArray()
    .map((metric) => ({
      name: metric.name,
      type: String(metric.type),
      help: metric.help,
      labels: [...((metric as { labelNames?: readonly string[] }).labelNames ?? [])],
    }))
    .sort(byName);
}

/** Text safe in a markdown table cell. */
const cell = (text: string) =>
  text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");

const code = (name: string) => `\`${name}\``;

function typeCell(type: string): string {
  // A histogram is exported as three series (https://prometheus.io/docs/concepts/metric_types/#histogram).
  return type === "histogram" ? "histogram: `_bucket` (by `le`), `_sum`, `_count`" : type;
}

function labelRows(own: readonly MetricDescription[]): string[] {
  const used = new Set(own.flatMap((m) => m.labels));
  for (const m of own) {
    const unexplained = m.labels.find((label) => LABEL_MEANINGS[label] === undefined);
    if (unexplained !== undefined) throw new Error(`label "${unexplained}" of ${m.name} has no meaning in LABEL_MEANINGS (src/app/metrics-reference.ts)`);
  }
  return Object.entries(LABEL_MEANINGS)
    .filter(([label]) => used.has(label))
    .map(([label, meaning]) => `| ${code(label)} | ${cell(meaning)} |`);
}

/** The one line about prom-client's process and Node.js metrics, and the event-loop series the service keeps of them. */
function othersLine(others: readonly MetricDescription[]): string {
  const eventLoop = others.filter((m) => m.name.startsWith("nodejs_eventloop_lag_")).map((m) => code(m.name));
  return (
    `Besides these, /metrics exports ${others.length} of prom-client's default process and Node.js metrics (\`process_*\`, ` +
    `\`nodejs_*\`; https://github.com/siimon/prom-client#default-metrics). Of its event-loop series, only ${eventLoop.join(", ")} ` +
    `are exported, over the delays since the last scrape: the others cost a tenth of a scrape's CPU (\`src/app/metrics.ts\`).`
  );
}

/** docs/metrics.md for the registry's metrics. */
export function renderMetricsReference(metrics: readonly MetricDescription[]): string {
  const sorted = [...metrics].sort(byName);
  const own = sorted.filter((m) => m.name.startsWith(PREFIX));
  const others = sorted.filter((m) => !m.name.startsWith(PREFIX));
  return [
    "# Metrics",
    "",
    "<!-- Generated by `npm run docs:metrics` from the HELP strings the code declares (src/app/metrics-reference.ts):",
    "     do not edit; change the HELP string where the metric is declared, then run it again. -->",
    "",
    "`GET /metrics` serves these in Prometheus' text format (with the metrics token when `METRICS_TOKEN` is set).",
    "This list is generated from the registry of the service configured with every check on (the replication",
    "check of an hg and of a Git mirror, the code-review pipeline, the Git → hg sync, other teams' queues) and",
    "checked against what its /metrics exports (`test/app/metrics-reference.test.ts`). A check that is off",
    "exports none of its series. Series that will exist are exported at 0 from the start; NaN means unknown",
    "(prom-client writes it `Nan`, which Prometheus parses). The meaning column is each series' HELP text.",
    "",
    `Every series of the service is named \`${PREFIX}*\`. Its labels:`,
    "",
    "| label | meaning |",
    "|---|---|",
    ...labelRows(own),
    "",
    `The ${own.length} series, by name:`,
    "",
    "| metric | type | labels | meaning |",
    "|---|---|---|---|",
    ...own.map((m) => `| ${code(m.name)} | ${typeCell(m.type)} | ${m.labels.join(", ")} | ${cell(m.help)} |`),
    "",
    othersLine(others),
    "",
  ].join("\n");
}
