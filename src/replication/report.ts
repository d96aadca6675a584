// What a replication run reports: per repository its lag and why its check failed, for the printed
// line of --once and --no-send (the contract's), for --json, and for the log.
import { humanSuffix } from "../core/duration.ts";
import type { FailureReason } from "../run/check-failure.ts";
import type { StopReason } from "./push-walk.ts";

export interface RepositoryReport {
  repository: string;
  /** The mirror's name: the callsign, for the Phabricator kinds. */
  mirror: string;
  ok: boolean;
  /** Why the check of this repository failed (the printed line's words) and its `reason` label. */
  error?: string;
  reason?: FailureReason;
  lagSeconds: number;
  pending: number | undefined;
  verified: number;
  stoppedAt?: { pushId: number; pushTime: number; reason: StopReason };
}

export interface CheckReport {
  ok: boolean;
  error?: string;
  messages: number;
  durationMs: number;
  repositories: RepositoryReport[];
}

/** The contract's printed result line. */
export function formatReport(report: RepositoryReport): string {
  // The contract's whole number of seconds, then the same in a form a person reads at once.
  const lag = Number.isNaN(report.lagSeconds) ? "unknown" : `${Math.round(report.lagSeconds)}${humanSuffix(report.lagSeconds)}`;
  const pending = report.pending === undefined ? "" : ` (${report.pending} push${report.pending === 1 ? "" : "es"} pending)`;
  const failure = report.ok ? "" : ` [check failed: ${report.error ?? "unknown error"}]`;
  const stopped =
    report.stoppedAt && report.stoppedAt.reason.kind === "missing"
      ? ` [push ${report.stoppedAt.pushId} not mirrored: ${report.stoppedAt.reason.node.slice(0, 12)} missing]`
      : "";
  return `${report.repository} ${report.mirror} replication lag (seconds): ${lag}${pending}${stopped}${failure}`;
}

/** `--once --json`'s `repositories`: the same facts as the lines (NaN, unknown, becomes null). */
export function reportJson(report: CheckReport) {
  return report.repositories.map((r) => ({
    repository: r.repository,
    mirror: r.mirror,
    ok: r.ok,
    lagSeconds: Number.isNaN(r.lagSeconds) ? null : Math.round(r.lagSeconds),
    pendingPushes: r.pending ?? null,
    verified: r.verified,
    error: r.error ?? null,
    reason: r.reason ?? null,
    stoppedAt:
      r.stoppedAt === undefined
        ? null
        : { pushId: r.stoppedAt.pushId, pushTime: new Date(r.stoppedAt.pushTime * 1000).toISOString(), reason: r.stoppedAt.reason },
  }));
}
