// The document of GET /status and of the page at GET /: per repository its status and why, the push
// that holds the lag, and when it was last checked; the code-review pipeline; the queues. Built from
// what the checks published, at the instant asked about. Pure.
import { lagSeconds, type RepositoryState } from "../run/lag.ts";
import { repositoryStatus, type Status, type StatusContext, type StatusPolicy } from "../replication/repository-status.ts";
import { reviewsInFlightAt, type ReviewView } from "../review/reviews.ts";
import type { DepthReading } from "../pulse/queue-watch.ts";
import type { BranchSync } from "../git-sync/branch-sync.ts";

export interface RepositoryStatusEntry {
  repository: string;
  callsign: string;
  status: Status;
  reason: string | null;
  /** Whole seconds; null when unknown (JSON has no NaN). */
  lagSeconds: number | null;
  oldestUnverified: { pushId: number; pushTime: string | null; user: string; missingNode: string | null; missingCommits: number | null } | null;
  /** In how many checks in a row the oldest unverified push has been the same one. */
  blockedChecks: number;
  pending: number | null;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
  lastPushReceived: string | null;
}

export interface PipelineStatus {
  /** null while the service does not know (start-up recovery not done, another reader on the Try queue, or stale). */
  reviewsInFlight: number | null;
  oldestReviewSeconds: number | null;
  lastCodeReviewPush: { pushId: number; pushTime: string | null } | null;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
}

export interface QueueStatus {
  queue: string;
  /** Ours (declared and drained by this service) or watched for another team (QUEUE_DEPTH_QUEUES). */
  owner: "service" | "watched";
  state: DepthReading["kind"];
  messages: number | null;
  consumers: number | null;
}

/** One Git branch's Git → hg sync (GIT_BRANCHES). */
export interface SyncStatus {
  branch: string;
  repository: string;
  /** Whole seconds; null when unknown. */
  lagSeconds: number | null;
  /** The oldest Git push not yet in hg: Lando's push id, its time and head. */
  oldestPending: { pushId: number; pushTime: string | null; head: string } | null;
  pending: number;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
}

export interface StatusDocument {
  generatedAt: string;
  pulse: { connected: boolean };
  repositories: RepositoryStatusEntry[];
  pipeline: PipelineStatus | null;
  /** The Git → hg sync per branch; null when GIT_BRANCHES is unset. */
  sync: SyncStatus[] | null;
  queues: QueueStatus[];
}

export interface StatusInputs {
  /** Each repository with its own no-input window (ms), which overrides the policy's. */
  repositories: ReadonlyArray<{ path: string; callsign: string; noInputAfterMs?: number }>;
  states: ReadonlyMap<string, RepositoryState>;
  reviews: ReviewView | undefined;
  /** The sync check's branches and what it published; undefined when it is off. */
  sync?: { branches: ReadonlyArray<{ branch: string; repository: string }>; states: ReadonlyMap<string, BranchSync> } | undefined;
  queues: ReadonlyArray<{ queue: string; owner: QueueStatus["owner"]; reading: DepthReading | undefined }>;
}

/**
 * An instant as ISO 8601, or null when there is none or it is no instant a Date can hold: a time read
 * from upstream is bounded where it is read (push-time.ts), and the document is still never the
 * thing that throws (a throw here was a 500 on /status and a failed scrape, for as long as the push stayed queued).
 */
const iso = (ms: number | undefined): string | null => {
  if (ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};
const isoSeconds = (seconds: number): string | null => iso(seconds * 1000);

export function statusDocument(inputs: StatusInputs, nowMs: number, policy: StatusPolicy, context: StatusContext): StatusDocument {
  const repositories = inputs.repositories.map(({ path, callsign, noInputAfterMs }): RepositoryStatusEntry => {
    const state = inputs.states.get(path);
    const own = noInputAfterMs === undefined ? policy : { ...policy, noInputAfterMs };
    const judged =
      state === undefined
        ? { status: "unknown" as const, reason: "no check has run yet", lagSeconds: Number.NaN }
        : repositoryStatus(state, nowMs, own, context);
    const blocker = state?.oldestUnverified;
    return {
      repository: path,
      callsign,
      status: judged.status,
      reason: judged.reason,
      lagSeconds: Number.isNaN(judged.lagSeconds) ? null : judged.lagSeconds,
      oldestUnverified: blocker ? { ...blocker, pushTime: isoSeconds(blocker.pushTime) } : null,
      blockedChecks: state?.blockedChecks ?? 0,
      pending: state?.pendingPushes ?? null,
      lastCheck: iso(state?.lastCheckAt),
      lastSuccess: iso(state?.lastSuccessAt),
      lastError: state?.lastError ?? null,
      lastPushReceived: iso(state?.lastPushReceivedAt),
    };
  });
  const reviews = inputs.reviews;
  const inFlight = reviews === undefined ? undefined : reviewsInFlightAt(reviews, nowMs, policy.staleAfterMs);
  const pipeline: PipelineStatus | null =
    reviews === undefined
      ? null
      : {
          reviewsInFlight: inFlight?.count ?? null,
          oldestReviewSeconds: inFlight?.oldestSeconds ?? null,
          lastCodeReviewPush: reviews.lastCodeReviewPush
            ? { pushId: reviews.lastCodeReviewPush.pushId, pushTime: isoSeconds(reviews.lastCodeReviewPush.pushTime) }
            : null,
          lastCheck: iso(reviews.lastCheckAt),
          lastSuccess: iso(reviews.lastSuccessAt),
          lastError: reviews.lastError ?? null,
        };
  const queues = inputs.queues.map(({ queue, owner, reading }): QueueStatus => ({
    queue,
    owner,
    state: reading?.kind ?? "unknown",
    messages: reading?.kind === "ok" ? reading.messages : null,
    consumers: reading?.kind === "ok" ? reading.consumers : null,
  }));
  const sync =
    inputs.sync === undefined
      ? null
      : inputs.sync.branches.map(({ branch, repository }): SyncStatus => {
          const state = inputs.sync?.states.get(branch);
          const lag = state === undefined ? Number.NaN : lagSeconds(state.state, nowMs, policy.staleAfterMs, context.connected);
          const oldest = state === undefined ? undefined : [...state.pending.values()].sort((a, b) => a.pushId - b.pushId)[0];
          return {
            branch,
            repository,
            lagSeconds: Number.isNaN(lag) ? null : lag,
            oldestPending: oldest === undefined ? null : { pushId: oldest.pushId, pushTime: isoSeconds(oldest.pushTime), head: oldest.head },
            pending: state?.pending.size ?? 0,
            lastCheck: iso(state?.state.lastCheckAt),
            lastSuccess: iso(state?.state.lastSuccessAt),
            lastError: state?.state.lastError ?? null,
          };
        });
  return { generatedAt: iso(nowMs) ?? "", pulse: { connected: context.connected }, repositories, pipeline, sync, queues };
}
