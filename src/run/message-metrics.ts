// The series about messages every queue-driven check reads, whatever the check: received, skipped,
// duplicated, set aside (and pushed out of the rejected queue), and the pushes the pushlog had that
// never arrived. Declared once on the app's registry and given to the runner.
import { Counter, Gauge, type Registry } from "prom-client";

/** Set by the runner (what every queue check read and set aside) and the gap searches. */
export function messageMetrics(registry: Registry, repositories: ReadonlyArray<{ path: string }>) {
  const metrics = {
    pushlogGapPushes: new Counter({
      name: "phabmon_pushlog_gap_pushes_total",
      help: "Pushes found in the pushlog that never arrived over Pulse.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    lastPushReceived: new Gauge({
      name: "phabmon_last_push_received_timestamp_seconds",
      help: "Unix time at which a message announcing a push to the repository was last received for the first time.",
      labelNames: ["repository"],
      registers: [registry],
    }),
    messagesReceived: new Counter({
      name: "phabmon_messages_received_total",
      help: "hgpush messages for the repository received for the first time (redeliveries are not counted).",
      labelNames: ["repository"],
      registers: [registry],
    }),
    messagesRejected: new Counter({
      name: "phabmon_messages_rejected_total",
      help: "Messages set aside, copied to the rejected queue then acked, counted once acked, by reason: malformed (too_large, content_type, not_json, schema), foreign (foreign_host, routing_mismatch, unmonitored), or a push json-pushes will never list or the mirror never get (stripped, not_replicated, no_git_commit, bad_time).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    rejectedDropped: new Counter({
      name: "phabmon_rejected_dropped_total",
      help: "Set-aside messages pushed out of the bounded rejected queue (oldest first) by newer ones.",
      registers: [registry],
    }),
    messagesSkipped: new Counter({
      name: "phabmon_messages_skipped_total",
      help: "Well-formed messages with nothing to verify, acked, by reason: other_type, empty_push, and of Lando's, other_repository, no_watched_branch.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    duplicateMessages: new Counter({
      name: "phabmon_duplicate_messages_total",
      help: "Messages whose pushes an earlier message of the same check already carried (delivery is at least once).",
      labelNames: ["repository"],
      registers: [registry],
    }),
  };
  for (const { path } of repositories) {
    metrics.messagesReceived.inc({ repository: path }, 0);
    metrics.pushlogGapPushes.inc({ repository: path }, 0);
  }
  return metrics;
}
export type MessageMetrics = ReturnType<typeof messageMetrics>;
