// The objectives' recording rules and burn-rate alerts, built from src/core/objectives.ts: pure data,
// rendered to grafana/alerts/phabmon.slo.rules.yml by rules-yaml.ts (`npm run dashboards`). Method:
// Google's SRE workbook, "Alerting on SLOs" (https://sre.google/workbook/alerting-on-slos/), the
// multiwindow, multi-burn-rate alerts of its sixth iteration; the `for:` of each is half its short
// window, as Pyrra generates them (pyrra-dev/pyrra, slo/rules.go, Windows()).
import { OBJECTIVES, type Objective } from "../../src/core/objectives.ts";
import { runbookUrl } from "./links.ts";

/** This service's series only, as every hand-written rule selects them. */
export const JOB = 'job=~"phabricator-repo-monitor.*"';

/** The error ratios recorded, per objective: the alerts' windows, and 2h and 1d for the dashboard. */
export const WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
export type Window = (typeof WINDOWS)[number];

export interface BurnAlert {
  readonly name: "PhabmonErrorBudgetBurnFast" | "PhabmonErrorBudgetBurnMedium" | "PhabmonErrorBudgetBurnSlow";
  /** Burn rate: how many times faster than the budget allows (1 spends it exactly over the 28 days). */
  readonly factor: number;
  readonly long: Window;
  readonly short: Window;
  readonly for: string;
  readonly severity: "critical" | "warning";
  /** The share of the 28-day budget spent once the long window has burnt at `factor`. */
  readonly budgetSpent: string;
}

/** The workbook's table 5-8: 2 % of the budget in an hour and 5 % in six hours page, 10 % in three days tickets. */
export const BURN_ALERTS: readonly BurnAlert[] = [
  { name: "PhabmonErrorBudgetBurnFast", factor: 14.4, long: "1h", short: "5m", for: "2m", severity: "critical", budgetSpent: "2 %" },
  { name: "PhabmonErrorBudgetBurnMedium", factor: 6, long: "6h", short: "30m", for: "15m", severity: "critical", budgetSpent: "5 %" },
  { name: "PhabmonErrorBudgetBurnSlow", factor: 1, long: "3d", short: "6h", for: "3h", severity: "warning", budgetSpent: "10 %" },
];

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Record<string, string>;
  readonly comment?: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly comment?: string;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: ReadonlyArray<RecordingRule | AlertRule>;
}

/**
 * What says that a push may be waiting past the threshold, per objective: the gauge of its lag (now minus
 * the oldest unverified push's time, NaN when unknown), or for Try pushes only the pipeline's view, since
 * the service learns of a diff only at its Try push and exports no age of diffs still waiting for one.
 */
const WAITING: Record<Objective["name"], { kind: "lag"; gauge: string } | { kind: "view"; gauge: string }> = {
  replication: { kind: "lag", gauge: "phabmon_replication_lag_seconds" },
  git_sync: { kind: "lag", gauge: "phabmon_sync_lag_seconds" },
  try_push_latency: { kind: "view", gauge: "phabmon_reviews_in_flight" },
};

const sel = (metric: string, extra = ""): string => `${metric}{${JOB}${extra ? `, ${extra}` : ""}}`;
const minutes = (seconds: number): string => `${Math.round(seconds / 60)}m`;
const percent = (ratio: number): string => `${Number((ratio * 100).toFixed(4))} %`;

/** The nominal events per second a waiting period stands for, per series: see the waiting rule's comment. */
function nominalRate(o: Objective, gauge: string): string {
  return `clamp_min(rate(${sel(`${o.histogram}_count`)}[6h]) or 0 * (${sel(gauge)} > bool 0), 1 / 3600)`;
}

/** 1 while a push may be waiting past the threshold, else 0, per series of the waiting gauge. */
function lateIndicator(o: Objective): string {
  const waiting = WAITING[o.name];
  const g = sel(waiting.gauge);
  if (waiting.kind === "view") return `max_over_time(${g}[${minutes(o.thresholdSeconds)}]) != bool max_over_time(${g}[${minutes(o.thresholdSeconds)}])`;
  return [
    `(`,
    `  ${g} == ${g}`,
    `  or last_over_time(((${g} == ${g}) - time())[${minutes(o.thresholdSeconds)}:1m]) + time()`,
    `  or (${g} != bool ${g}) * Inf`,
    `) > bool ${o.thresholdSeconds}`,
  ].join("\n");
}

const WAITING_COMMENT: Record<"lag" | "view", string> = {
  lag: [
    "Pushes still unverified count against the objective while they wait, so that an outage that verifies",
    "nothing burns budget instead of pausing it: while the lag (the oldest unverified push's age) is over the",
    "threshold, the repository's usual event rate (its verified pushes over the last 6 hours, at least one",
    "an hour) counts as bad events. An unknown lag (NaN; `NaN > x` is false in PromQL, so it is handled here)",
    "is extrapolated: the last known lag plus the time since it was known, so that a lag already over the",
    "threshold keeps burning, and one unknown for the threshold's own length (nothing known in the window)",
    "counts as over it (Inf); a short unknown spell after a small lag spends nothing. Late pushes verified",
    "afterwards count once more in the histogram: an outage is charged its waiting and its late arrivals.",
    "Six hours follow the day's rhythm of pushes; past them an outage is charged the floor, which keeps",
    "every window's ratio at 1 (nothing verified) so the alerts do not resolve before the mirror does.",
  ].join("\n"),
  view: [
    "The service sees a diff only at its Try push, so diffs waiting for one are invisible: what counts as",
    "waiting is a pipeline the service cannot see (phabmon_reviews_in_flight NaN) for the threshold's whole",
    "length, at the usual event rate (the last 6 hours' Try pushes, at least one an hour). A bot that stops",
    "pushing while the view is fine spends nothing here; PhabmonPipelineBlind (3 h) catches that.",
  ].join("\n"),
};

/** A window's events or bad events: the histogram's observations, plus the waiting term. */
function eventsExpr(o: Objective, w: Window, bad: boolean): string {
  const count = `sum by (job) (rate(${sel(`${o.histogram}_count`)}[${w}]))`;
  const good = `sum by (job) (rate(${sel(`${o.histogram}_bucket`, `le="${o.thresholdSeconds}"`)}[${w}]))`;
  const measured = bad ? `(${count} - ${good})` : count;
  const waiting = `sum by (job) (avg_over_time(${sel("phabmon:slo_waiting_bad_events:rate", `objective="${o.name}"`)}[${w}]))`;
  // Either term may be missing (no push verified yet, or no gauge yet): `or` keeps the other alone.
  return [`(`, `  ${measured}`, `  + ${waiting}`, `)`, `or ${measured}`, `or ${waiting}`].join("\n");
}

const indent = (text: string, by: string): string => text.replaceAll("\n", `\n${by}`);

function recordingRules(o: Objective): RecordingRule[] {
  const labels = { objective: o.name };
  const rules: RecordingRule[] = [
    {
      record: "phabmon:slo_waiting_bad_events:rate",
      comment: WAITING_COMMENT[WAITING[o.name].kind],
      expr: `sum by (job) (\n  (\n    ${indent(lateIndicator(o), "    ")}\n  )\n  * ${nominalRate(o, WAITING[o.name].gauge)}\n)`,
      labels,
    },
  ];
  for (const w of WINDOWS) {
    rules.push({ record: `phabmon:slo_events:rate${w}`, expr: eventsExpr(o, w, false), labels });
    rules.push({ record: `phabmon:slo_bad_events:rate${w}`, expr: eventsExpr(o, w, true), labels });
    rules.push({
      record: `phabmon:slo_error_ratio:rate${w}`,
      expr: `${sel(`phabmon:slo_bad_events:rate${w}`, `objective="${o.name}"`)}\n/ ${sel(`phabmon:slo_events:rate${w}`, `objective="${o.name}"`)}`,
      labels,
    });
  }
  rules.push({
    record: `phabmon:slo_error_ratio:rate${o.windowDays}d`,
    comment: "The budget's window: the 5-minute rates summed over it (each evaluation's sample), bad over all.",
    expr: `sum_over_time(${sel("phabmon:slo_bad_events:rate5m", `objective="${o.name}"`)}[${o.windowDays}d])\n/ sum_over_time(${sel("phabmon:slo_events:rate5m", `objective="${o.name}"`)}[${o.windowDays}d])`,
    labels,
  });
  return rules;
}

function burnAlert(o: Objective, a: BurnAlert): AlertRule {
  const budget = Number((1 - o.target).toFixed(6));
  const ratio = (w: Window) => `${sel(`phabmon:slo_error_ratio:rate${w}`, `objective="${o.name}"`)} > ${a.factor} * ${budget}`;
  const goal = `${percent(o.target)} of ${o.description}, over ${o.windowDays} days`;
  return {
    alert: a.name,
    expr: `${ratio(a.long)}\nand ${ratio(a.short)}`,
    for: a.for,
    labels: { severity: a.severity, objective: o.name },
    annotations: {
      summary: `The ${o.name} objective's error budget burns ${a.factor}× too fast: {{ $value | humanizePercentage }} of events bad over ${a.long}`,
      description: `Objective: ${goal} (budget ${percent(budget)} bad). Over the last ${a.long} and ${a.short} more than ${percent(a.factor * budget)} of events were bad (late, or still waiting past ${minutes(o.thresholdSeconds)}); at this rate ${a.budgetSpent} of the ${o.windowDays}-day budget is gone in ${a.long}.`,
      runbook_url: runbookUrl(a.name),
    },
  };
}

/** One group per objective: its waiting term, its ratios over every window, then its three alerts. */
export function sloRuleGroups(objectives: readonly Objective[] = OBJECTIVES): RuleGroup[] {
  return objectives.map((o) => ({
    name: `phabricator-repo-monitor-slo-${o.name}`,
    rules: [...recordingRules(o), ...BURN_ALERTS.map((a) => burnAlert(o, a))],
  }));
}

/** The committed file's header. */
export const SLO_RULES_HEADER = [
  "Generated by `npm run dashboards` (grafana/src/slo-rules.ts) from the objectives of src/core/objectives.ts:",
  "do not edit; test/grafana/slo-rules.test.ts fails when this file is not what the generator writes. Tested with",
  "`promtool test rules grafana/alerts/phabmon.slo.rules.test.yml`. Per objective (label `objective`) and",
  "deployment (`job`): events and bad events per second and their ratio over 5m to 3d, the ratio over the",
  "28-day budget window, and three burn-rate alerts; the burn rate is the error ratio / (1 - target).",
].join("\n");
