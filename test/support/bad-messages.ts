// Malformed, foreign and uninteresting hgpush messages, each with the fixed reason it must be set
// aside under. Built against a given HG_URL and monitored repository.
import { changegroupV2, otherTypeV2 } from "./hgpush.ts";

export interface BadMessage {
  name: string;
  routingKey: string;
  body: Buffer;
  contentType?: string;
  outcome: "rejected" | "skipped";
  reason: string;
}

export function badMessages(hgUrl: string, repository: string): BadMessage[] {
  const good = () => changegroupV2(hgUrl, repository, [{ pushId: 900_000, time: 1_700_000_000 }]);
  const withData = (patch: Record<string, unknown>) => ({ ...good(), payload: { type: "changegroup.1", data: { ...good().payload.data, ...patch } } });
  const withPush = (patch: Record<string, unknown>) => withData({ pushlog_pushes: [{ ...good().payload.data.pushlog_pushes[0], ...patch }] });
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const other = new URL(hgUrl);
  const entries: Array<[string, Buffer, string, string, string?, string?]> = [
    // [name, body, outcome, reason, routing key, content type]
    ["plain text", Buffer.from("hello, pulse"), "rejected", "not_json"],
    ["an empty body", Buffer.alloc(0), "rejected", "not_json"],
    ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "rejected", "not_json"],
    ["JSON null", json(null), "rejected", "schema"],
    ["a JSON number", json(42), "rejected", "schema"],
    ["a JSON string", json("payload"), "rejected", "schema"],
    ["a JSON array", json([good()]), "rejected", "schema"],
    ["an object without payload", json({ _meta: good()._meta }), "rejected", "schema"],
    ["a payload that is a list", json({ payload: [] }), "rejected", "schema"],
    ["a numeric type", json({ payload: { type: 1, data: {} } }), "rejected", "schema"],
    ["changegroup data that is null", json({ payload: { type: "changegroup.1", data: null } }), "rejected", "schema"],
    ["no repo_url", json(withData({ repo_url: undefined })), "rejected", "schema"],
    ["a numeric repo_url", json(withData({ repo_url: 7 })), "rejected", "schema"],
    ["heads that are not a list", json(withData({ heads: "abc" })), "rejected", "schema"],
    ["a non-hex head", json(withData({ heads: ["g".repeat(40)] })), "rejected", "schema"],
    ["a short head", json(withData({ heads: ["abc123"] })), "rejected", "schema"],
    ["pushlog_pushes that are not a list", json(withData({ pushlog_pushes: {} })), "rejected", "schema"],
    ["a string push id", json(withPush({ pushid: "900000" })), "rejected", "schema"],
    ["a negative push id", json(withPush({ pushid: -3 })), "rejected", "schema"],
    ["a fractional push id", json(withPush({ pushid: 1.5 })), "rejected", "schema"],
    ["a string push time", json(withPush({ time: "yesterday" })), "rejected", "schema"],
    ["a 12-digit push time", json(withPush({ time: 146_097_508_100 })), "rejected", "schema"],
    ["no push user", json(withPush({ user: undefined })), "rejected", "schema"],
    ["deep nesting", Buffer.from(`${"[".repeat(50_000)}${"]".repeat(50_000)}`), "rejected", "schema"],
    ["a repo_url on another host", json(withData({ repo_url: `https://hg.example.com/${repository}` })), "rejected", "foreign_host"],
    [
      "a repo_url with another scheme",
      json(withData({ repo_url: `${other.protocol === "https:" ? "http:" : "https:"}//${other.host}/${repository}` })),
      "rejected",
      "foreign_host",
    ],
    ["a repo_url with credentials", json(withData({ repo_url: `${other.protocol}//user:pw@${other.host}/${repository}` })), "rejected", "foreign_host"],
    ["a repo_url that is not a URL", json(withData({ repo_url: "not a url" })), "rejected", "foreign_host"],
    [
      "a repo_url naming another repository than the routing key",
      json(changegroupV2(hgUrl, "mozilla-central", [{ pushId: 5, time: 1_700_000_000 }])),
      "rejected",
      "routing_mismatch",
    ],
    // Reaches the queue through a binding left from an earlier configuration.
    ["an unmonitored repository", json(changegroupV2(hgUrl, "projects/elm", [{ pushId: 5, time: 1_700_000_000 }])), "rejected", "unmonitored", "projects/elm"],
    ["a text/plain content type", json(good()), "rejected", "content_type", repository, "text/plain"],
    ["a 300 KB body", json({ payload: { padding: "x".repeat(300 * 1024) } }), "rejected", "too_large"],
    ["an unknown message type", json(otherTypeV2(hgUrl, repository, "future.7")), "skipped", "other_type"],
    ["an obsolete.1 message", json(otherTypeV2(hgUrl, repository, "obsolete.1")), "skipped", "other_type"],
    ["a push with no pushlog entry", json(changegroupV2(hgUrl, repository, [])), "skipped", "empty_push"],
  ];
  return entries.map(([name, body, outcome, reason, routingKey, contentType]) => ({
    name,
    body,
    outcome: outcome as "rejected" | "skipped",
    reason,
    routingKey: routingKey ?? repository,
    ...(contentType ? { contentType } : {}),
  }));
}
