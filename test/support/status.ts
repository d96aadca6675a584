// A status document from given sections, through the app's own assembly (statusDocument over a table
// whose entries answer their section), for tests of what /status and the page show.
import type { CheckInstance, CheckKind } from "../../src/run/check-kind.ts";
import type { TableEntry } from "../../src/app/build-app.ts";
import { statusDocument, type QueueStatus, type StatusDocument } from "../../src/app/status-document.ts";
import type { DepthReading } from "../../src/pulse/queue-watch.ts";

function entry(name: string, statusKey: string, section: unknown): TableEntry {
  const kind: CheckKind = { name, statusKey, judged: true, off: () => undefined, queue: () => undefined, create: () => check };
  const check: CheckInstance = {
    name,
    run: () => Promise.reject(new Error("not run in this test")),
    withoutRun: () => ({ ok: false, lines: [], json: null }),
    status: () => section,
    health: () => ({ healthy: true, details: {} }),
  };
  // A section given as null is a check that is off.
  return section === null ? { kind, off: "off in this test" } : { kind, check };
}

export function documentOf(
  sections: { repositories: unknown; pipeline?: unknown; sync?: unknown },
  queues: ReadonlyArray<{ queue: string; owner: QueueStatus["owner"]; reading: DepthReading | undefined }>,
  nowMs: number,
  connected = true,
): StatusDocument {
  const table = [
    entry("replication", "repositories", sections.repositories),
    entry("code_review", "pipeline", sections.pipeline ?? null),
    entry("git_sync", "sync", sections.sync ?? null),
  ];
  return statusDocument(table, queues, nowMs, connected);
}
