// The Grafana dashboards, as code (Grafana Foundation SDK). `npm run dashboards` writes them to
// grafana/dashboards/*.json, and a test fails when the committed JSON is not what this produces, when
// an expression does not parse, or when a panel asks for a metric the service does not export.
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as heatmap from "@grafana/grafana-foundation-sdk/heatmap";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { OBJECTIVES, type Objective } from "../../src/core/objectives.ts";
import { runbookUrl } from "./links.ts";

/**
 * The alert thresholds drawn on the panels: grafana/alerts/phabmon.rules.yml uses the same numbers, and
 * test/grafana.test.ts fails when they differ. The review baseline is a good day's, not an alert.
 */
export const THRESHOLDS = {
  lagWarningSeconds: 900,
  lagCriticalSeconds: 3600,
  syncLagWarningSeconds: 900,
  checkStaleSeconds: 1200,
  queueWarning: 2000,
  queuePage: 6000,
  tryLatencyP90Seconds: 1800,
  reviewTimeP90Seconds: 2700,
  reviewsStuck: 3,
  reviewBaselineLowSeconds: 720,
  reviewBaselineHighSeconds: 900,
};

/** PulseGuardian's deletion threshold, named in descriptions: the page comes before it, at queuePage. */
const PULSEGUARDIAN_DELETE = 8000;

/** A link to each alert's runbook, on the panel that shows what the alert watches. */
function runbooks(...alerts: string[]): dashboard.DashboardLinkBuilder[] {
  return alerts.map((alert) =>
    new dashboard.DashboardLinkBuilder(`Runbook: ${alert}`).type(dashboard.DashboardLinkType.Link).url(runbookUrl(alert)).targetBlank(true),
  );
}

/** This service's series only (the alert rules select the same), whatever else the Prometheus scrapes. */
const JOB = 'job=~"phabricator-repo-monitor.*"';

/** Restarts, on every dashboard: a new process start time is a restart (or a deploy). */
function restarts(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name("Restarts")
    .datasource(DS)
    .enable(true)
    .iconColor("purple")
    .expr(`changes(process_start_time_seconds{${JOB}}[5m]) > 0`)
    .step("1m")
    .titleFormat("restart")
    .textFormat("{{instance}} started again (deploy, crash or dyno cycling)");
}

/** NaN and no value are "unknown", grey: never a number a person could read as healthy. */
const UNKNOWN: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.SpecialValue,
    options: { match: dashboard.SpecialValueMatch.NullAndNan, result: { text: "unknown", color: "text", index: 2 } },
  },
];

function glance(title: string, description: string, expr: string, legend: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DS)
    .height(5)
    .span(6)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["last"]).values(false))
    .withTarget(query(expr, legend, "A"));
}

const DS: common.DataSourceRef = { type: "prometheus", uid: "${datasource}" };
const REPO = 'repository=~"$repository"';
const QUANTILES = [0.5, 0.9, 0.99];

function query(expr: string, legend: string, refId: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DS);
}

function refIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i));
}

function series(title: string, description: string, unit: string, targets: Array<[string, string]>): timeseries.PanelBuilder {
  const ids = refIds(targets.length);
  const panel = new timeseries.PanelBuilder().title(title).description(description).datasource(DS).unit(unit).height(8).span(12);
  targets.forEach(([expr, legend], i) => panel.withTarget(query(expr, legend, ids[i] as string)));
  return panel;
}

/** Threshold lines drawn on a time series: green below the first step, then each colour from its value. */
function withLines(panel: timeseries.PanelBuilder, steps: Array<[number, string]>): timeseries.PanelBuilder {
  return panel
    .thresholds(
      new dashboard.ThresholdsConfigBuilder()
        .mode(dashboard.ThresholdsMode.Absolute)
        .steps([{ value: null, color: "green" }, ...steps.map(([value, color]) => ({ value, color }))]),
    )
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
}

/**
 * Quantiles over `window`: the pipeline and the replication see tens of events an hour, so their
 * quantiles are taken over an hour (over a minute's rate interval most points would be empty or one
 * event); upstream requests are many a minute and use the rate interval.
 */
function quantiles(metric: string, by: string, filter: string, legendPrefix: string, window = "$__rate_interval"): Array<[string, string]> {
  const labels = by ? `le, ${by}` : "le";
  return QUANTILES.map((q) => [
    `histogram_quantile(${q}, sum by (${labels}) (rate(${metric}_bucket${filter}[${window}])))`,
    `${legendPrefix}p${Math.round(q * 100)}`,
  ]);
}

function variables(builder: dashboard.DashboardBuilder, labelQuery: string, name: string, label: string): dashboard.DashboardBuilder {
  return builder
    .withVariable(new dashboard.DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"))
    .withVariable(
      new dashboard.QueryVariableBuilder(name)
        .label(label)
        .datasource(DS)
        .query({ query: labelQuery, refId: "PrometheusVariableQueryEditor-VariableQuery" })
        .definition(labelQuery)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    );
}

export function mirrorDashboard(): dashboard.Dashboard {
  const lag = withLines(
    series(
      "Replication lag",
      "Now minus the push time of the oldest push not yet in the Phabricator mirror; 0 when everything is mirrored; no value when unknown. Dashed: the warning (15 min) and critical (1 h) alert thresholds.",
      "s",
      [[`phabmon_replication_lag_seconds{${REPO}}`, "{{repository}} ({{callsign}})"]],
    ),
    [
      [THRESHOLDS.lagWarningSeconds, "orange"],
      [THRESHOLDS.lagCriticalSeconds, "red"],
    ],
  )
    .span(24)
    .links(runbooks("PhabmonReplicationLagHigh", "PhabmonReplicationLagCritical", "PhabmonReplicationLagUnknown"));
  const builder = variables(
    new dashboard.DashboardBuilder("Phabricator mirror")
      .uid("phabmon-mirror")
      .description("How far the Phabricator mirror lags behind hg.mozilla.org (phabricator-repo-monitor).")
      .tags(["phabricator-repo-monitor", "phabricator"])
      .refresh("1m")
      .time({ from: "now-24h", to: "now" })
      .timezone("utc")
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .annotations([restarts()]),
    "label_values(phabmon_replication_lag_seconds, repository)",
    "repository",
    "Repository",
  );
  builder
    .withRow(new dashboard.RowBuilder("At a glance"))
    .withPanel(
      glance(
        "Lag now",
        "Per repository: now minus the push time of the oldest push not in the mirror; unknown when the service cannot tell (never a 0 then).",
        `phabmon_replication_lag_seconds{${JOB}, ${REPO}}`,
        "{{repository}}",
      )
        .unit("s")
        .mappings(UNKNOWN)
        .thresholds(
          new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
            { value: null, color: "green" },
            { value: THRESHOLDS.lagWarningSeconds, color: "orange" },
            { value: THRESHOLDS.lagCriticalSeconds, color: "red" },
          ]),
        )
        .links(runbooks("PhabmonReplicationLagHigh", "PhabmonReplicationLagCritical", "PhabmonReplicationLagUnknown")),
    )
    .withPanel(
      glance(
        "Status",
        "The service's word for each repository (GET /status says why): ok, lagging, stalled (the same push for STALLED_AFTER_CHECKS checks), no_input (no push for NO_INPUT_HOURS), unknown.",
        `phabmon_repository_status{${JOB}, ${REPO}} == 1`,
        "{{repository}}: {{status}}",
      )
        .textMode(common.BigValueTextMode.Name)
        .colorMode(common.BigValueColorMode.None)
        .links(runbooks("PhabmonNoInput")),
    )
    .withPanel(
      glance(
        "Since the last push arrived",
        "Now minus the last time a message announced a new push for the repository (first deliveries only); none since the process started reads as no value.",
        `time() - phabmon_last_push_received_timestamp_seconds{${JOB}, ${REPO}}`,
        "{{repository}}",
      )
        .unit("s")
        .noValue("none since start")
        .links(runbooks("PhabmonNoInput", "PhabmonInputRejected")),
    )
    .withPanel(
      glance("Pulse", "Whether the service is connected to Pulse now, and whether Prometheus can scrape it.", `phabmon_pulse_connected{${JOB}}`, "{{instance}}")
        .withTarget(query(`up{${JOB}}`, "scrape {{instance}}", "B"))
        .mappings([
          {
            type: dashboard.MappingType.ValueToText,
            options: { "0": { text: "disconnected", color: "red", index: 0 }, "1": { text: "connected", color: "green", index: 1 } },
          },
          ...UNKNOWN,
        ])
        .colorMode(common.BigValueColorMode.Background)
        .links(runbooks("PhabmonPulseDisconnected", "PhabmonPulseDown", "PhabmonPulseFlapping", "PhabmonDown")),
    )
    .withPanel(
      new table.PanelBuilder()
        .title("The push that holds the lag")
        .description(
          "Per lagging repository: the first push, in push order, not fully mirrored, and how many of its commits are missing (GET /status has its first missing commit, its user and push time).",
        )
        .datasource(DS)
        .height(6)
        .span(24)
        .withTarget(query(`phabmon_oldest_unverified_push_id{${JOB}, ${REPO}}`, "", "A").instant().format(prometheus.PromQueryFormat.Table))
        .withTarget(query(`phabmon_oldest_unverified_push_missing_commits{${JOB}, ${REPO}}`, "", "B").instant().format(prometheus.PromQueryFormat.Table))
        .withTarget(query(`phabmon_replication_lag_seconds{${JOB}, ${REPO}} > 0`, "", "C").instant().format(prometheus.PromQueryFormat.Table))
        .withTransformation({ id: "merge", options: {} })
        .withTransformation({
          id: "organize",
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true },
            renameByName: { "Value #A": "push", "Value #B": "commits missing", "Value #C": "lag (s)" },
          },
        })
        .noValue("no push holds the lag")
        .links(runbooks("PhabmonReplicationLagHigh", "PhabmonReplicationLagCritical")),
    )
    .withRow(new dashboard.RowBuilder("Replication"))
    .withPanel(lag)
    .withPanel(
      series(
        "Replication delay quantiles",
        "Per push: from the push to the check that found all its commits mirrored (p50, p90, p99 over the last hour: tens of pushes an hour).",
        "s",
        quantiles("phabmon_replication_delay_seconds", "repository", `{${REPO}}`, "{{repository}} ", "1h"),
      ),
    )
    .withPanel(
      new heatmap.PanelBuilder()
        .title("Replication delay distribution")
        .description("Pushes verified per delay bucket.")
        .datasource(DS)
        .height(8)
        .span(12)
        .calculate(false)
        .withTarget(
          query(`sum by (le) (increase(phabmon_replication_delay_seconds_bucket{${REPO}}[$__rate_interval]))`, "{{le}}", "A").format(
            prometheus.PromQueryFormat.Heatmap,
          ),
        )
        .yAxis(new heatmap.YAxisConfigBuilder().unit("s")),
    )
    .withPanel(
      series("Pending pushes", "Pushes received and not yet verified, as of the last check.", "short", [[`phabmon_pending_pushes{${REPO}}`, "{{repository}}"]]),
    )
    .withPanel(
      withLines(
        series(
          "Age of the last successful check",
          "Now minus the last check that completed; the check runs every 5 minutes. Dashed: PhabmonCheckStale (20 min).",
          "s",
          [[`time() - phabmon_last_check_success_timestamp_seconds{${REPO}}`, "{{repository}}"]],
        ),
        [[THRESHOLDS.checkStaleSeconds, "red"]],
      ).links(runbooks("PhabmonCheckStale")),
    )
    .withRow(new dashboard.RowBuilder("Git → hg sync (GIT_BRANCHES)"))
    .withPanel(
      withLines(
        series(
          "Git → hg sync lag",
          "Per Git branch: now minus Lando's push time of the oldest Git push whose head the hg pushlog does not carry yet (git-hg-sync's hop); 0 when all are synced; no value when unknown. Dashed: PhabmonSyncLagHigh (15 min).",
          "s",
          [[`phabmon_sync_lag_seconds{${JOB}}`, "{{branch}} → {{repository}}"]],
        ),
        [[THRESHOLDS.syncLagWarningSeconds, "orange"]],
      ).links(runbooks("PhabmonSyncLagHigh", "PhabmonSyncLagUnknown", "PhabmonSyncChecksFailing")),
    )
    .withPanel(
      series(
        "Git → hg sync delay quantiles",
        "Per Git push: Lando's push time → the hg push that carries its head (p50, p90, p99 over the last hour).",
        "s",
        quantiles("phabmon_sync_delay_seconds", "branch", `{${JOB}}`, "{{branch}} ", "1h"),
      ),
    )
    .withPanel(
      series(
        "Landing → Git mirror quantiles",
        "Per Git push, for repositories checked as Git: Lando's push time → the check that found its head in Phabricator; with the two panels above, the chain Lando → Git → hg → Phabricator (p50, p90, p99 over the last hour).",
        "s",
        quantiles("phabmon_landing_to_mirror_seconds", "repository", `{${JOB}}`, "{{repository}} ", "1h"),
      ),
    )
    .withPanel(
      series("Git pushes not yet in hg", "Per Git branch, as of the last sync check.", "short", [
        [`phabmon_sync_pending_pushes{${JOB}}`, "{{branch}} → {{repository}}"],
      ]),
    )
    .withRow(new dashboard.RowBuilder("Checks and Pulse"))
    .withPanel(
      series("Checks", "Completed and failed checks per repository.", "short", [
        [
          `sum by (repository) (increase(phabmon_checks_total{${REPO}}[$__rate_interval])) - sum by (repository) (increase(phabmon_check_failures_total{${REPO}}[$__rate_interval]))`,
          "{{repository}} completed",
        ],
        [`sum by (repository, reason) (increase(phabmon_check_failures_total{${REPO}}[$__rate_interval]))`, "{{repository}} failed: {{reason}}"],
      ]).links(runbooks("PhabmonChecksFailing", "PhabmonInputRejected")),
    )
    .withPanel(
      series("Pulse reconnects and consumer cancels", "Lost connections, and queues deleted under the consumer.", "short", [
        ["increase(phabmon_pulse_reconnects_total[$__rate_interval])", "reconnects"],
        ["increase(phabmon_pulse_consumer_cancels_total[$__rate_interval])", "consumer cancels"],
      ]).links(runbooks("PhabmonPulseFlapping", "PhabmonPulseDisconnected", "PhabmonPulseDown")),
    )
    .withRow(new dashboard.RowBuilder("Upstreams and messages"))
    .withPanel(
      series(
        "Upstream request latency",
        "hg.mozilla.org and Phabricator, retries included.",
        "s",
        quantiles("phabmon_upstream_request_duration_seconds", "service", "", "{{service}} "),
      ),
    )
    .withPanel(
      series("Upstream request failures", "Requests that failed after their retries.", "reqps", [
        ["sum by (service) (rate(phabmon_upstream_request_failures_total[$__rate_interval]))", "{{service}}"],
      ]),
    )
    .withPanel(
      series("Rejected messages", "Malformed or foreign Pulse messages set aside, by reason.", "short", [
        ["sum by (reason) (increase(phabmon_messages_rejected_total[$__rate_interval]))", "{{reason}}"],
      ]),
    )
    .withPanel(
      series("Pushes found only in the pushlog", "Pushes that never arrived over Pulse.", "short", [
        [`sum by (repository) (increase(phabmon_pushlog_gap_pushes_total{${REPO}}[$__rate_interval]))`, "{{repository}}"],
      ]),
    );
  return builder.build();
}

export function pipelineDashboard(): dashboard.Dashboard {
  const builder = variables(
    new dashboard.DashboardBuilder("Code-review pipeline")
      .uid("phabmon-code-review")
      .description("Diff published → pushed to Try → analyzed → result on Phabricator (phabricator-repo-monitor).")
      .tags(["phabricator-repo-monitor", "code-review"])
      .refresh("1m")
      .time({ from: "now-24h", to: "now" })
      .timezone("utc")
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .annotations([restarts()]),
    "label_values(phabmon_queue_messages, queue)",
    "queue",
    "Queue",
  );
  const baseline: Array<[number, string]> = [
    [THRESHOLDS.reviewBaselineLowSeconds, "yellow"],
    [THRESHOLDS.reviewBaselineHighSeconds, "orange"],
  ];
  builder
    .withRow(new dashboard.RowBuilder("Pulse queues"))
    .withPanel(
      withLines(
        series(
          "Queue depth",
          `Messages waiting per queue. Dashed: PulseGuardian's warning at 2,000 (PhabmonQueueBacklog) and the page at 6,000 for our own queues (PhabmonQueueNearDeletion), before PulseGuardian deletes a queue at ${PULSEGUARDIAN_DELETE.toLocaleString("en")}. Other teams' queues only warn.`,
          "short",
          [['phabmon_queue_messages{queue=~"$queue"}', "{{queue}}"]],
        ),
        [
          [THRESHOLDS.queueWarning, "orange"],
          [THRESHOLDS.queuePage, "red"],
        ],
      ).links(runbooks("PhabmonQueueBacklog", "PhabmonQueueNearDeletion", "PhabmonWatchedQueueBacklog")),
    )
    .withPanel(
      series("Queue consumers", "Consumers per queue; ours should have one during a check and none between.", "short", [
        ['phabmon_queue_consumers{queue=~"$queue"}', "{{queue}}"],
      ]),
    )
    .withRow(new dashboard.RowBuilder("Durations"))
    .withPanel(
      withLines(
        series(
          "Try push latency",
          "From the diff's creation to the code-review bot's Try push, quantiles over the last hour. Dashed: the 12–15 minute end-to-end baseline, and PhabmonTryPushLatencyHigh's p90 of 30 minutes.",
          "s",
          quantiles("phabmon_try_push_latency_seconds", "", "", "", "1h"),
        ),
        [...baseline, [THRESHOLDS.tryLatencyP90Seconds, "red"]],
      ).links(runbooks("PhabmonTryPushLatencyHigh")),
    )
    .withPanel(
      withLines(
        series(
          "End-to-end review time",
          "From the diff's creation to the result on its Harbormaster build target, quantiles over the last hour. Dashed: the 12–15 minute baseline, and PhabmonReviewTimeHigh's p90 of 45 minutes.",
          "s",
          quantiles("phabmon_review_duration_seconds", "", "", "", "1h"),
        ),
        [...baseline, [THRESHOLDS.reviewTimeP90Seconds, "red"]],
      ).links(runbooks("PhabmonReviewTimeHigh")),
    )
    .withRow(new dashboard.RowBuilder("In flight and outcomes"))
    .withPanel(
      withLines(
        series(
          "Reviews in flight",
          "Diffs pushed to Try with no result yet, and those of them in flight for more than 2 hours. Dashed: PhabmonReviewsStuck (3 stuck).",
          "short",
          [
            ["phabmon_reviews_in_flight", "in flight"],
            ["phabmon_reviews_stuck", "stuck (over 2 h)"],
          ],
        ),
        [[THRESHOLDS.reviewsStuck, "red"]],
      ).links(runbooks("PhabmonReviewsStuck")),
    )
    .withPanel(
      withLines(
        series("Oldest review in flight", "Age, from its diff's creation, of the oldest review with no result.", "s", [
          ["phabmon_oldest_review_in_flight_seconds", "oldest"],
        ]),
        [[THRESHOLDS.reviewBaselineHighSeconds, "orange"]],
      ),
    )
    .withPanel(
      series("Review outcomes", "Reviews that ended, by outcome, and those dropped unmeasured, by reason.", "short", [
        ["sum by (outcome) (increase(phabmon_review_duration_seconds_count[$__rate_interval]))", "{{outcome}}"],
        ["sum by (reason) (increase(phabmon_reviews_dropped_total[$__rate_interval]))", "dropped: {{reason}}"],
      ]),
    )
    .withPanel(
      series("Try pushes", "Try pushes read, by the code-review bot or by people; people's with none of the bot's for hours is a blind pipeline.", "short", [
        ["sum by (kind) (increase(phabmon_try_pushes_total[$__rate_interval]))", "{{kind}}"],
      ]).links(runbooks("PhabmonPipelineBlind")),
    )
    .withRow(new dashboard.RowBuilder("Pipeline check health"))
    .withPanel(
      withLines(
        series(
          "Age of the last successful pipeline check",
          "Now minus the last check of the code-review pipeline that completed. Dashed: PhabmonPipelineCheckStale (20 min).",
          "s",
          [["time() - (phabmon_last_pipeline_check_success_timestamp_seconds > 0)", "{{instance}}"]],
        ),
        [[THRESHOLDS.checkStaleSeconds, "red"]],
      ).links(runbooks("PhabmonPipelineCheckStale")),
    )
    .withPanel(
      series("Pipeline checks", "Completed and failed checks of the code-review pipeline.", "short", [
        [
          "increase(phabmon_pipeline_checks_total[$__rate_interval]) - sum without (reason) (increase(phabmon_pipeline_check_failures_total[$__rate_interval]))",
          "completed",
        ],
        ["sum by (reason) (increase(phabmon_pipeline_check_failures_total[$__rate_interval]))", "failed: {{reason}}"],
      ]).links(runbooks("PhabmonPipelineChecksFailing")),
    );
  return builder.build();
}

/**
 * The burn-rate alerts of grafana/alerts/phabmon.slo.rules.yml (generated from OBJECTIVES), as the
 * Objectives dashboard draws them: each pages or tickets when the error ratio over both its windows is
 * `factor` times the budget's (the multiwindow, multi-burn-rate parameters Google's SRE workbook
 * recommends in "Alerting on SLOs"). The burn-rate panel plots the long windows; test/grafana.test.ts
 * holds these numbers to the rules once that file exists.
 */
export const BURN_ALERTS = [
  { alert: "PhabmonErrorBudgetBurnFast", factor: 14.4, long: "1h", short: "5m", hours: 1, action: "pages", color: "red" },
  { alert: "PhabmonErrorBudgetBurnMedium", factor: 6, long: "6h", short: "30m", hours: 6, action: "pages", color: "orange" },
  { alert: "PhabmonErrorBudgetBurnSlow", factor: 1, long: "3d", short: "6h", hours: 72, action: "tickets", color: "yellow" },
] as const;

/** The budget left at which the Objectives dashboard turns orange: under a quarter of it. */
export const BUDGET_LOW = 0.25;

/** NaN (no event in the window: 0 ÷ 0) and no series read "No data", never a number. */
const NO_DATA: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.SpecialValue,
    options: { match: dashboard.SpecialValueMatch.NullAndNan, result: { text: "No data", color: "text", index: 0 } },
  },
];

/**
 * A legend under the panel and every series in the tooltip: these panels draw several series (windows,
 * all and bad events, deployments) that a person must tell apart; the SDK's default hides the legend.
 */
function legible(panel: timeseries.PanelBuilder): timeseries.PanelBuilder {
  return panel
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
}

const percent = (share: number, digits = 2): string => `${Number((share * 100).toFixed(digits))} %`;

/** What the objective promises, with its numbers: every panel of its row says it first. */
function promise(o: Objective): string {
  return `Objective ${o.name}: ${percent(o.target)} of ${o.description} (${o.histogram} within ${o.thresholdSeconds} s), over ${o.windowDays} days; its error budget is the other ${percent(1 - o.target)} of the events.`;
}

/** A recorded series of this objective: the job matcher, the deployments picked, and its `objective`. */
function slo(record: string, o: Objective): string {
  return `${record}{${JOB}, job=~"$job", objective="${o.name}"}`;
}

/** The share of the error budget left over the objective's window: 1 − error ratio ÷ (1 − target). */
function budgetLeft(o: Objective): string {
  return `1 - ${slo(`phabmon:slo_error_ratio:rate${o.windowDays}d`, o)} / (1 - ${o.target})`;
}

/** Red once the budget is spent, orange under a quarter of it left. */
function budgetSteps(): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    { value: null, color: "red" },
    { value: 0, color: "orange" },
    { value: BUDGET_LOW, color: "green" },
  ]);
}

function budgetPanels(o: Objective): [stat.PanelBuilder, timeseries.PanelBuilder] {
  const how = `Budget left over the last ${o.windowDays} days: 1 − (bad events ÷ all events over ${o.windowDays} d) ÷ (1 − ${o.target}), i.e. 1 − phabmon:slo_error_ratio:rate${o.windowDays}d ÷ ${percent(1 - o.target)}. 100 % when nothing was spent, 0 when all of it was, below 0 when the objective is missed over the window. "No data" when there was no event in the window or the recording rules are not loaded, never 100 %.`;
  const glanceNow = new stat.PanelBuilder()
    .title(`${o.name}: error budget left`)
    .description(`${promise(o)} ${how} Red below 0, orange below ${percent(BUDGET_LOW)}.`)
    .datasource(DS)
    .height(8)
    .span(4)
    .unit("percentunit")
    .decimals(1)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["last"]).values(false))
    .colorMode(common.BigValueColorMode.Background)
    .mappings(NO_DATA)
    .noValue("No data")
    .thresholds(budgetSteps())
    .withTarget(query(budgetLeft(o), "{{job}}", "A"));
  const overTime = series(
    `${o.name}: error budget left over time`,
    `${promise(o)} ${how} Each point is the budget left over the ${o.windowDays} days before it: a drop is budget spent, a rise is old bad events leaving the window. Dashed: ${percent(BUDGET_LOW)} and 0.`,
    "percentunit",
    [[budgetLeft(o), "{{job}}"]],
  )
    .span(10)
    .axisSoftMin(0)
    .axisSoftMax(1)
    .mappings(NO_DATA)
    .noValue("No data")
    .thresholds(budgetSteps())
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  return [glanceNow, overTime];
}

function burnRatePanel(o: Objective): timeseries.PanelBuilder {
  const alerts = BURN_ALERTS.map(
    (a) =>
      `${a.alert} ${a.action} at ${a.factor}× over ${a.long} and ${a.short} (${percent((a.factor * a.hours) / (o.windowDays * 24), 1)} of the budget in ${a.long})`,
  ).join("; ");
  const panel = series(
    `${o.name}: burn rate`,
    `${promise(o)} How fast the budget is spent: the error ratio (bad events ÷ all events) over ${BURN_ALERTS.map((a) => a.long).join(", ")} ÷ (1 − ${o.target}), from phabmon:slo_error_ratio:rate<window>. 1× spends exactly the budget in ${o.windowDays} days. Dashed, the alerts: ${alerts}. No value where the window had no event.`,
    "suffix:×",
    BURN_ALERTS.map((a) => [`${slo(`phabmon:slo_error_ratio:rate${a.long}`, o)} / (1 - ${o.target})`, `{{job}} ${a.long}`]),
  );
  return withLines(
    panel,
    [...BURN_ALERTS].reverse().map((a) => [a.factor, a.color]),
  )
    .span(10)
    .axisSoftMin(0)
    .axisSoftMax(Math.ceil(Math.max(...BURN_ALERTS.map((a) => a.factor))))
    .noValue("No data");
}

function eventsPanel(o: Objective): timeseries.PanelBuilder {
  // Rates recorded over 5 minutes, averaged over each bar and times its width: the events of that bar.
  const perBar = (record: string) => `avg_over_time(${slo(record, o)}[$__interval]) * $__interval_ms / 1000`;
  return (
    series(
      `${o.name}: events that spent it`,
      `${promise(o)} The events behind the budget, per bar (each bar's width, at least 5 min): all events, and the bad ones among them (observed slower than ${o.thresholdSeconds} s, or still waiting past it, so an outage that verifies nothing spends budget too). Computed as phabmon:slo_events:rate5m and phabmon:slo_bad_events:rate5m averaged over the bar, times its width: an estimate, not an exact count. The budget is ${percent(1 - o.target)} of all events.`,
      "short",
      [
        [perBar("phabmon:slo_events:rate5m"), "{{job}} all events"],
        [perBar("phabmon:slo_bad_events:rate5m"), "{{job}} bad events"],
      ],
    )
      .span(24)
      .height(7)
      .interval("5m")
      .drawStyle(common.GraphDrawStyle.Bars)
      .fillOpacity(80)
      .lineWidth(1)
      .decimals(0)
      .noValue("No data")
      // Bad events drawn over all events (they are a part of them), in red.
      .overrideByQuery("A", [{ id: "color", value: { mode: "fixed", fixedColor: "blue" } }])
      .overrideByQuery("B", [{ id: "color", value: { mode: "fixed", fixedColor: "red" } }])
  );
}

/**
 * Per objective, one row: the error budget left over its window (now, and over time), how fast it burns
 * against the burn-rate alerts' factors, and the events that spent it. Built from OBJECTIVES, so a new
 * objective brings its row; every panel reads the recording rules of grafana/alerts/phabmon.slo.rules.yml.
 */
export function objectivesDashboard(objectives: readonly Objective[] = OBJECTIVES): dashboard.Dashboard {
  const builder = variables(
    new dashboard.DashboardBuilder("Objectives")
      .uid("phabmon-slo")
      .description("Service level objectives of phabricator-repo-monitor: the error budget left, its burn rate and the events that spent it.")
      .tags(["phabricator-repo-monitor", "slo"])
      .refresh("1m")
      .time({ from: "now-7d", to: "now" })
      .timezone("utc")
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .annotations([restarts()]),
    `label_values(phabmon:slo_error_ratio:rate28d{${JOB}}, job)`,
    "job",
    "Deployment",
  );
  const links = runbooks(...BURN_ALERTS.map((a) => a.alert));
  for (const o of objectives) {
    const [now, overTime] = budgetPanels(o);
    builder
      .withRow(new dashboard.RowBuilder(`${o.name}: ${percent(o.target)} of ${o.description}, over ${o.windowDays} days`))
      .withPanel(now.links(links))
      .withPanel(legible(overTime).links(links))
      .withPanel(legible(burnRatePanel(o)).links(links))
      .withPanel(legible(eventsPanel(o)).links(links));
  }
  return builder.build();
}

export const DASHBOARDS: Record<string, () => dashboard.Dashboard> = {
  "phabricator-mirror.json": mirrorDashboard,
  "code-review-pipeline.json": pipelineDashboard,
  "objectives.json": () => objectivesDashboard(),
};

export function renderDashboard(build: () => dashboard.Dashboard): string {
  return `${JSON.stringify(build(), null, 2)}\n`;
}
