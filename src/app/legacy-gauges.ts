// The earlier Python service's DogStatsD gauge, so monitors built on it in Datadog keep working: one
// gauge per callsign, lower-cased, `phabricator.repository.<callsign>.seconds_behind_source_repo`
// (mozilla-conduit/phabricator-repo-monitor, monitor/reporting.py report_to_statsd). Pure.

export interface LegacyGauge {
  name: string;
  value: number;
}

/**
 * The gauges to send for the repositories' lags (NaN when unknown). A callsign can serve several
 * repositories, and the gauge has room for one number: the largest known lag. An unknown lag is never
 * sent as 0: a callsign whose lags are all unknown gets no point at all, and one whose known lags are
 * all 0 gets none either while another of its repositories is unknown, since a 0 would vouch for it.
 */
export function legacyLagGauges(lags: ReadonlyArray<{ callsign: string; lagSeconds: number }>): LegacyGauge[] {
  const byCallsign = new Map<string, { max: number; unknown: boolean }>();
  for (const { callsign, lagSeconds } of lags) {
    const entry = byCallsign.get(callsign) ?? { max: Number.NEGATIVE_INFINITY, unknown: false };
    if (Number.isNaN(lagSeconds)) entry.unknown = true;
    else entry.max = Math.max(entry.max, lagSeconds);
    byCallsign.set(callsign, entry);
  }
  const gauges: LegacyGauge[] = [];
  for (const [callsign, { max, unknown }] of byCallsign) {
    if (max === Number.NEGATIVE_INFINITY || (unknown && max === 0)) continue;
    gauges.push({ name: `phabricator.repository.${callsign.toLowerCase()}.seconds_behind_source_repo`, value: max });
  }
  return gauges;
}
