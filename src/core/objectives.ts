// The service's objectives, declared once: the burn-rate rules and the SLO dashboard are generated from
// them (grafana/src/), and the status page draws each threshold on its last day's chart. The numbers are
// defaults a deployment may change before generating; the README says why each was chosen.
// Method: Google's SRE workbook, "Alerting on SLOs" (multiwindow, multi-burn-rate alerts).

export interface Objective {
  /** The `objective` label of the recorded ratios and of the burn-rate alerts. */
  readonly name: "replication" | "git_sync" | "try_push_latency";
  /** What a good event is, for people: the dashboards' and alerts' wording. */
  readonly description: string;
  /** The histogram whose observations are the events (each with its `_bucket`, `_count`). */
  readonly histogram: string;
  /** A good event was observed within this many seconds: an upper bound of one of its buckets. */
  readonly thresholdSeconds: number;
  /** The share of events that must be good over the window, e.g. 0.99. */
  readonly target: number;
  readonly windowDays: number;
}

export const OBJECTIVES: readonly Objective[] = [
  {
    name: "replication",
    description: "pushes in the Phabricator mirror within 10 min",
    histogram: "phabmon_replication_delay_seconds",
    thresholdSeconds: 600,
    target: 0.99,
    windowDays: 28,
  },
  {
    name: "git_sync",
    description: "Git pushes synced to hg within 15 min",
    histogram: "phabmon_sync_delay_seconds",
    thresholdSeconds: 900,
    target: 0.99,
    windowDays: 28,
  },
  {
    name: "try_push_latency",
    description: "diffs pushed to Try within 30 min",
    histogram: "phabmon_try_push_latency_seconds",
    thresholdSeconds: 1800,
    target: 0.95,
    windowDays: 28,
  },
];

/** One objective by its name. */
export function objective(name: Objective["name"]): Objective {
  const found = OBJECTIVES.find((o) => o.name === name);
  if (!found) throw new Error(`no objective ${name}`);
  return found;
}
