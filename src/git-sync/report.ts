// What a Git → hg sync run reports, per Git branch: the printed line of --once and --no-send, --json
// and the log.
import { humanSuffix } from "../core/duration.ts";

export interface SyncReport {
  ok: boolean;
  error?: string;
  messages: number;
  branches: Array<{ branch: string; repository: string; ok: boolean; error?: string; pending: number; synced: number; lagSeconds: number }>;
}

/** One line per Git branch, as the replication lines are: branch, hg path, the sync lag in whole seconds. */
export function formatSyncReport(report: SyncReport): string[] {
  return report.branches.map((b) => {
    const lag = Number.isNaN(b.lagSeconds) ? "unknown" : `${Math.round(b.lagSeconds)}${humanSuffix(b.lagSeconds)}`;
    const failure = b.ok ? "" : ` [check failed: ${b.error ?? "unknown error"}]`;
    return `${b.branch} ${b.repository} Git → hg sync lag (seconds): ${lag} (${b.pending} Git push${b.pending === 1 ? "" : "es"} pending)${failure}`;
  });
}

/** `--once --json`'s `gitSync`. */
export function syncJson(report: SyncReport) {
  return report.branches.map((b) => ({
    branch: b.branch,
    repository: b.repository,
    ok: b.ok,
    lagSeconds: Number.isNaN(b.lagSeconds) ? null : Math.round(b.lagSeconds),
    pendingPushes: b.pending,
    synced: b.synced,
    error: b.error ?? null,
  }));
}
