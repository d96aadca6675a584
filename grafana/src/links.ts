// Where each alert's runbook lives: one `## <AlertName>` section of docs/runbooks.md, so the anchor is
// the alert's name lower-cased. The dashboards' panel links use it, and test/grafana/runbook-links.test.ts
// holds every runbook_url of grafana/alerts/phabmon.rules.yml and of the generated phabmon.slo.rules.yml
// (slo-rules.ts) to the same base.
export const RUNBOOK_BASE = "https://github.com/mozilla-conduit/phabricator-repo-monitor/blob/main/docs/runbooks.md#";

/** The runbook of one alert. */
export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE}${alert.toLowerCase()}`;
}
