// The queues' part of /status and of the page: each watched queue's depth, ours or another team's. Pure.
import type { DepthReading } from "./queue-watch.ts";

export interface QueueStatus {
  queue: string;
  /** Ours (declared and drained by this service) or watched for another team (QUEUE_DEPTH_QUEUES). */
  owner: "service" | "watched";
  state: DepthReading["kind"];
  messages: number | null;
  consumers: number | null;
}

export function queuesSection(queues: ReadonlyArray<{ queue: string; owner: QueueStatus["owner"]; reading: DepthReading | undefined }>): QueueStatus[] {
  return queues.map(({ queue, owner, reading }) => ({
    queue,
    owner,
    state: reading?.kind ?? "unknown",
    messages: reading?.kind === "ok" ? reading.messages : null,
    consumers: reading?.kind === "ok" ? reading.consumers : null,
  }));
}
