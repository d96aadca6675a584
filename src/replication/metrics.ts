// The replication check's series, on the app's registry: what its runs measure (delays, pushes
// verified, Git hashes not looked up, its duration), and what a scrape computes from the state it
// published (the lag, pushes pending, each repository's status and the push that holds the lag, from
// the same section /status serves, so a dashboard and the page never disagree).
import type { FailureReason } from "../run/check-failure.ts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Repository } from "../config/config.ts";
import { mirrorName } from "../mirror/mirror.ts";
import { DELAY_BUCKETS, registerLagGauge, type CollectorLog } from "../run/lag-gauge.ts";
import type { RepositoryState } from "../run/lag.ts";
import { STATUSES } from "./repository-status.ts";
import type { RepositoryStatusEntry } from "./status.ts";

const REPO_LABELS = ["repository", "callsign"] as const;

/** The values its failures' `reason` label can take (src/run/check-failure.ts): each series exists from the start. */
export const REPLICATION_FAILURE_REASONS = [
  "queue",
  "queue_shared",
  "gap_search",
  "pushlog",
  "mirror",
  "unknown_repository",
  "input",
  "settle",
  "stopped",
] as const satisfies readonly FailureReason[];

/** The run metrics' names (src/run/run-metrics.ts), as the contract has them. */
export const REPLICATION_RUN_METRICS = {
  checks: { name: "phabmon_checks_total", help: "Checks of a repository, completed or failed." },
  failures: {
    name: "phabmon_check_failures_total",
    help: "Checks of a repository that could not complete, by reason: the step that failed (queue, gap_search, pushlog, mirror, input, settle), or queue_shared, unknown_repository, stopped.",
  },
  lastSuccess: { name: "phabmon_last_check_success_timestamp_seconds", help: "Unix time of the last check of the repository that completed." },
};

/** What the runs measure; the check names them in its measurements. */
export function declareReplicationMetrics(registry: Registry, repositories: readonly Repository[]): void {
  const registers = [registry];
  new Histogram({
    name: "phabmon_replication_delay_seconds",
    help: "Per push: time from the push to the check that found all its commits mirrored.",
    labelNames: REPO_LABELS,
    buckets: DELAY_BUCKETS,
    registers,
  });
  const verified = new Counter({ name: "phabmon_pushes_verified_total", help: "Pushes found fully mirrored and acked.", labelNames: REPO_LABELS, registers });
  const nullGit = new Counter({
    name: "phabmon_git_null_changesets_total",
    help: "Changesets of settled pushes, in repositories checked as Git, for which the pushlog names no Git commit (git_changesets null); they are not looked up.",
    labelNames: ["repository"],
    registers,
  });
  new Gauge({
    name: "phabmon_last_check_duration_seconds",
    help: "How long the last replication check (of every repository) took, from reading the queue to settling it.",
    registers,
  });
  // Series that will exist are exported from the start, so rate() and alerts see them at zero.
  for (const { path, mirror } of repositories) {
    verified.inc({ repository: path, callsign: mirrorName(mirror) }, 0);
    if (mirror.vcs === "git") nullGit.inc({ repository: path }, 0);
  }
}

/** The series a scrape computes from what the last run published. */
export function registerReplicationCollectors(
  registry: Registry,
  options: {
    repositories: readonly Repository[];
    states: () => ReadonlyMap<string, RepositoryState>;
    section: () => RepositoryStatusEntry[];
    connected: () => boolean;
    staleAfterMs: number;
    now: () => number;
    log?: CollectorLog;
  },
): void {
  const { repositories, states } = options;
  const series = repositories.map(({ path, mirror }) => ({ labels: { repository: path, callsign: mirrorName(mirror) }, state: () => states().get(path) }));
  registerLagGauge(
    registry,
    {
      name: "phabmon_replication_lag_seconds",
      help: "Now minus the push time of the oldest push not yet fully mirrored; 0 when the last check found everything mirrored and Pulse is connected; NaN when unknown: before the first check, when the last successful check is more than three intervals old, and instead of 0 while Pulse is disconnected or the last check failed.",
      labelNames: REPO_LABELS,
    },
    series,
    options,
  );
  new Gauge({
    name: "phabmon_pending_pushes",
    help: "Pushes received but not yet verified, as of the last check that read the queue.",
    labelNames: REPO_LABELS,
    registers: [registry],
    collect() {
      try {
        for (const { labels, state } of series) {
          const pending = state()?.pendingPushes;
          if (pending !== undefined) this.set(labels, pending);
        }
      } catch (error) {
        // A collector that throws fails the whole scrape (every other series with it).
        options.log?.warn({ err: error }, "pending pushes collector failed");
      }
    },
  });
  registerStatusGauges(registry, options.section, options.log);
}

/** phabmon_repository_status and the push that holds the lag, from the section /status serves. */
function registerStatusGauges(registry: Registry, section: () => RepositoryStatusEntry[], log: CollectorLog | undefined): void {
  const registers = [registry];
  // The registry reads its metrics in order: the first one's collect builds the section once and sets all three.
  const repositoryStatus = new Gauge({
    name: "phabmon_repository_status",
    help: `1 for the repository's current status (${STATUSES.join(", ")}), 0 for the others; the reason is on /status.`,
    labelNames: [...REPO_LABELS, "status"],
    registers,
    collect: () => setAll(),
  });
  const pushId = new Gauge({
    name: "phabmon_oldest_unverified_push_id",
    help: "The id of the first push, in push order, not known to be fully mirrored: the one that holds the lag; absent when none.",
    labelNames: REPO_LABELS,
    registers,
  });
  // Labelled by repository only: a push id or a node as a label would be a new series for every push
  // that ever held the lag (one a check while lagging), without bound. /status names the node.
  const pushMissing = new Gauge({
    name: "phabmon_oldest_unverified_push_missing_commits",
    help: "How many commits of the push that holds the lag (phabmon_oldest_unverified_push_id) the mirror lacks; NaN when not known; absent when no push holds the lag. Its first missing commit is on /status.",
    labelNames: REPO_LABELS,
    registers,
  });
  const setAll = () => {
    for (const gauge of [repositoryStatus, pushId, pushMissing]) gauge.reset();
    let entries: RepositoryStatusEntry[];
    try {
      entries = section();
    } catch (error) {
      // A collector that throws fails the whole scrape; no series is what we honestly have.
      log?.warn({ err: error }, "status collector failed");
      return;
    }
    for (const entry of entries) {
      const labels = { repository: entry.repository, callsign: entry.callsign };
      for (const s of STATUSES) repositoryStatus.set({ ...labels, status: s }, entry.status === s ? 1 : 0);
      const push = entry.oldestUnverified;
      if (push === null) continue;
      pushId.set(labels, push.pushId);
      pushMissing.set(labels, push.missingCommits ?? Number.NaN);
    }
  };
}
