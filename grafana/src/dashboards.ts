// The two Grafana dashboards, as code (Grafana Foundation SDK). `npm run dashboards` writes them to
// grafana/dashboards/*.json, and a test fails when the committed JSON is not what this produces, when
// an expression does not parse, or when a panel asks for a metric the service does not export.
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as heatmap from "@grafana/grafana-foundation-sdk/heatmap";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

/** The alert thresholds drawn on the panels; grafana/alerts/phabmon.rules.yml uses the same numbers. */
export const THRESHOLDS = {
  lagWarningSeconds: 900,
  lagCriticalSeconds: 3600,
  queueWarning: 2000,
  queueDeletion: 8000,
  reviewBaselineLowSeconds: 720,
  reviewBaselineHighSeconds: 900,
};

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

function quantiles(metric: string, by: string, filter: string, legendPrefix: string): Array<[string, string]> {
  const labels = by ? `le, ${by}` : "le";
  return QUANTILES.map((q) => [
    `histogram_quantile(${q}, sum by (${labels}) (rate(${metric}_bucket${filter}[$__rate_interval])))`,
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
  ).span(24);
  const builder = variables(
    new dashboard.DashboardBuilder("Phabricator mirror")
      .uid("phabmon-mirror")
      .description("How far the Phabricator mirror lags behind hg.mozilla.org (phabricator-repo-monitor).")
      .tags(["phabricator-repo-monitor", "phabricator"])
      .refresh("1m")
      .time({ from: "now-24h", to: "now" })
      .timezone("utc")
      .tooltip(dashboard.DashboardCursorSync.Crosshair),
    "label_values(phabmon_replication_lag_seconds, repository)",
    "repository",
    "Repository",
  );
  builder
    .withRow(new dashboard.RowBuilder("Replication"))
    .withPanel(lag)
    .withPanel(
      series(
        "Replication delay quantiles",
        "Per push: from the push to the check that found all its commits mirrored (p50, p90, p99 over the rate interval).",
        "s",
        quantiles("phabmon_replication_delay_seconds", "repository", `{${REPO}}`, "{{repository}} "),
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
      series("Age of the last successful check", "Now minus the last check that completed; the check runs every 5 minutes.", "s", [
        [`time() - phabmon_last_check_success_timestamp_seconds{${REPO}}`, "{{repository}}"],
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
      ]),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title("Pulse connected")
        .description("1 while connected to Pulse.")
        .datasource(DS)
        .height(8)
        .span(6)
        .withTarget(query("phabmon_pulse_connected", "connected", "A")),
    )
    .withPanel(
      series("Pulse reconnects and consumer cancels", "Lost connections, and queues deleted under the consumer.", "short", [
        ["increase(phabmon_pulse_reconnects_total[$__rate_interval])", "reconnects"],
        ["increase(phabmon_pulse_consumer_cancels_total[$__rate_interval])", "consumer cancels"],
      ]).span(6),
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
      .tooltip(dashboard.DashboardCursorSync.Crosshair),
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
        series("Queue depth", "Messages waiting per queue. Dashed: PulseGuardian warns at 2,000 and deletes the queue at 8,000.", "short", [
          ['phabmon_queue_messages{queue=~"$queue"}', "{{queue}}"],
        ]),
        [
          [THRESHOLDS.queueWarning, "orange"],
          [THRESHOLDS.queueDeletion, "red"],
        ],
      ),
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
          "From the diff's creation to the code-review bot's Try push. Dashed: the 12–15 minute end-to-end baseline.",
          "s",
          quantiles("phabmon_try_push_latency_seconds", "", "", ""),
        ),
        baseline,
      ),
    )
    .withPanel(
      withLines(
        series(
          "End-to-end review time",
          "From the diff's creation to the result on its Harbormaster build target. Dashed: the 12–15 minute baseline.",
          "s",
          quantiles("phabmon_review_duration_seconds", "", "", ""),
        ),
        baseline,
      ),
    )
    .withRow(new dashboard.RowBuilder("In flight and outcomes"))
    .withPanel(series("Reviews in flight", "Diffs pushed to Try with no result yet.", "short", [["phabmon_reviews_in_flight", "in flight"]]))
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
      series("Try pushes", "Try pushes read, by the code-review bot or by people.", "short", [
        ["sum by (kind) (increase(phabmon_try_pushes_total[$__rate_interval]))", "{{kind}}"],
      ]),
    );
  return builder.build();
}

export const DASHBOARDS: Record<string, () => dashboard.Dashboard> = {
  "phabricator-mirror.json": mirrorDashboard,
  "code-review-pipeline.json": pipelineDashboard,
};

export function renderDashboard(build: () => dashboard.Dashboard): string {
  return `${JSON.stringify(build(), null, 2)}\n`;
}
