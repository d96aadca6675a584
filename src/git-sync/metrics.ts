// The Git → hg sync check's series, on the app's registry, created only when GIT_BRANCHES is set:
// what its runs measure (sync delay, landing to the Git mirror), and what a scrape computes from the
// branches it published (the sync lag by the replication lag's rules, Git pushes pending).
import { Gauge, Histogram, type Registry } from "prom-client";
import type { FailureReason } from "../run/check-failure.ts";
import { DELAY_BUCKETS, registerLagGauge, type CollectorLog } from "../run/lag-gauge.ts";
import type { BranchSync } from "./branch-sync.ts";

/** The values its failures' `reason` label can take (src/run/check-failure.ts): each series exists from the start. */
export const SYNC_FAILURE_REASONS = [
  "queue",
  "queue_shared",
  "pushlog",
  "mirror",
  "unknown_repository",
  "settle",
  "stopped",
] as const satisfies readonly FailureReason[];

export const SYNC_RUN_METRICS = {
  checks: { name: "phabmon_sync_checks_total", help: "Checks of the Git → hg sync, completed or failed." },
  failures: {
    name: "phabmon_sync_check_failures_total",
    help: `Checks of the Git → hg sync that could not complete for some branch (broker, hg.mozilla.org or Phabricator failure, or a lost queue), by reason: the step that failed, or what went wrong (${SYNC_FAILURE_REASONS.join(", ")}).`,
  },
  lastSuccess: {
    name: "phabmon_last_sync_check_success_timestamp_seconds",
    help: "Unix time of the last check of the Git → hg sync that completed for every branch.",
  },
};

export function declareSyncMetrics(
  registry: Registry,
  branches: ReadonlyArray<{ branch: string; repository: string }>,
  gitRepositories: ReadonlyArray<{ path: string; callsign: string }>,
): void {
  const registers = [registry];
  const delay = new Histogram({
    name: "phabmon_sync_delay_seconds",
    help: "Per Git push: from Lando's push time to the time of the hg push (git-hg-sync's) that carries its head.",
    labelNames: ["branch", "repository"],
    buckets: DELAY_BUCKETS,
    registers,
  });
  const toMirror = new Histogram({
    name: "phabmon_landing_to_mirror_seconds",
    help: "Per Git push, for repositories checked as Git: from Lando's push time to the check that found its head commit in Phabricator.",
    labelNames: ["repository", "callsign"],
    buckets: DELAY_BUCKETS,
    registers,
  });
  for (const labels of branches) delay.zero(labels);
  for (const { path, callsign } of gitRepositories) toMirror.zero({ repository: path, callsign });
}

export function registerSyncCollectors(
  registry: Registry,
  options: {
    branches: ReadonlyArray<{ branch: string; repository: string }>;
    states: () => ReadonlyMap<string, BranchSync>;
    connected: () => boolean;
    staleAfterMs: number;
    now: () => number;
    log?: CollectorLog;
  },
): void {
  const { branches, states } = options;
  registerLagGauge(
    registry,
    {
      name: "phabmon_sync_lag_seconds",
      help: "Now minus the Git push time of the oldest Lando push whose head the hg pushlog does not carry yet; 0 when all are synced; NaN when unknown (before the first sync check, or the last successful one is more than three intervals old).",
      labelNames: ["branch", "repository"],
    },
    branches.map(({ branch, repository }) => ({ labels: { branch, repository }, state: () => states().get(branch)?.state })),
    options,
  );
  new Gauge({
    name: "phabmon_sync_pending_pushes",
    help: "Git pushes Lando announced that the hg pushlog does not carry yet, as of the last sync check.",
    labelNames: ["branch", "repository"],
    registers: [registry],
    collect() {
      for (const { branch, repository } of branches) {
        const known = states().get(branch);
        if (known !== undefined && known.state.lastCheckAt !== undefined) this.set({ branch, repository }, known.pending.size);
      }
    },
  });
}
