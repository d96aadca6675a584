// The document of GET /status and of the page at GET /: each check's section (its kind's statusKey:
// `repositories`, `pipeline`, `sync`), null for a check that is off, and the queues. Built from what
// the checks published, at the instant asked about.
import { iso } from "../core/iso-time.ts";
import type { RepositoryStatusEntry } from "../replication/status.ts";
import type { PipelineStatus } from "../review/status.ts";
import type { SyncStatus } from "../git-sync/status.ts";
import { queuesSection, type QueueStatus } from "../pulse/queue-status.ts";
import type { DepthReading } from "../pulse/queue-watch.ts";
import type { TableEntry } from "./build-app.ts";

export type { RepositoryStatusEntry, PipelineStatus, SyncStatus, QueueStatus };

export interface StatusDocument {
  generatedAt: string;
  pulse: { connected: boolean };
  repositories: RepositoryStatusEntry[];
  pipeline: PipelineStatus | null;
  /** The Git → hg sync per branch; null when GIT_BRANCHES is unset. */
  sync: SyncStatus[] | null;
  queues: QueueStatus[];
  /** A check added to the table brings its own section under its statusKey. */
  [section: string]: unknown;
}

export function statusDocument(
  table: readonly TableEntry[],
  queues: ReadonlyArray<{ queue: string; owner: QueueStatus["owner"]; reading: DepthReading | undefined }>,
  nowMs: number,
  connected: boolean,
): StatusDocument {
  const document: StatusDocument = {
    generatedAt: iso(nowMs) ?? "",
    pulse: { connected },
    repositories: [],
    pipeline: null,
    sync: null,
    queues: queuesSection(queues),
  };
  for (const { kind, check } of table) {
    if (kind.statusKey !== undefined) document[kind.statusKey] = check === undefined ? null : check.status(nowMs);
  }
  return document;
}
