// Decodes one hgpush Pulse message (mozilla/version-control-tools pylib/vcsreplicator/vcsreplicator/pushnotifications.py, docs/hgmo/notifications.rst) into the pushes it announces, or says why it
// is set aside. Pure: the caller hands in the raw delivery.
import { z } from "zod";

/** Pulse asks for messages under 8 KiB; anything this large is not an hgpush message. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface Push {
  repository: string;
  pushId: number;
  /**
   * Unix seconds: the pushlog's `date` once json-pushes has listed the push, until then the
   * message's `time` (read as the decoder reads it).
   */
  pushTime: number;
  user: string;
}

/** Short fixed words, used as the `reason` label of phabmon_messages_rejected_total. */
export type RejectReason = "too_large" | "content_type" | "not_json" | "schema" | "foreign_host" | "routing_mismatch" | "unmonitored";

export type SkipReason = "other_type" | "empty_push";

export type DecodedMessage =
  | { kind: "pushes"; repository: string; pushes: Push[] }
  | { kind: "skipped"; reason: SkipReason; repository?: string }
  | { kind: "rejected"; reason: RejectReason; detail: string; /** For foreign_host: the origin the message names. */ origin?: string };

export interface RawMessage {
  body: Uint8Array;
  contentType?: string | undefined;
  routingKey: string;
}

// Without `stream`, decode() keeps no state between calls, so one decoder serves every message.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const NODE = z.string().regex(/^[0-9a-f]{40}$/, "not a 40-hex node");

/**
 * From 2016 until September 2018 hg.mozilla.org sent `time` ten times too large: the template rendered
 * the timestamp followed by its offset `0` (version-control-tools aa0c72a9, Bug 1488405). Recorded
 * messages of that era, and the example in its docs/hgmo/notifications.rst, carry such 11-digit values.
 * Until September 2286 a real push time has at most 10 digits, so a larger one is that value; the
 * pushlog's `date`, never affected, replaces it as soon as json-pushes lists the push.
 */
export function messagePushTime(time: number): number {
  return time >= 1e10 ? Math.floor(time / 10) : time;
}

const pushlogEntry = z.object({
  pushid: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  user: z.string().max(1000),
  time: z.number().int().nonnegative().lt(1e11),
});

const changegroup = z.object({
  repo_url: z.string().max(2000),
  heads: z.array(NODE).max(10_000),
  source: z.string().optional(),
  pushlog_pushes: z.array(pushlogEntry).max(10_000),
});

const envelope = z.object({ payload: z.record(z.string(), z.unknown()) });
const v2Payload = z.object({ type: z.string().max(200), data: z.unknown() });

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid";
}

/** The hg path of `repoUrl` below `hgUrl`, or undefined when it points elsewhere. */
export function repositoryPath(repoUrl: string, hgUrl: string): string | undefined {
  if (!URL.canParse(repoUrl)) return undefined;
  const url = new URL(repoUrl);
  const base = new URL(`${hgUrl}/`);
  if (url.origin !== base.origin || url.search !== "" || url.username !== "" || !url.pathname.startsWith(base.pathname)) {
    return undefined;
  }
  const path = url.pathname.slice(base.pathname.length).replace(/\/+$/, "");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(path)) return undefined;
  if (path.split("/").includes("..")) return undefined;
  return path;
}

export function decodeHgpushMessage(message: RawMessage, hgUrl: string): DecodedMessage {
  if (message.body.byteLength > MAX_MESSAGE_BYTES) {
    return { kind: "rejected", reason: "too_large", detail: `${message.body.byteLength} bytes` };
  }
  const contentType = message.contentType?.split(";")[0]?.trim().toLowerCase();
  if (contentType !== undefined && contentType !== "" && contentType !== "application/json") {
    return { kind: "rejected", reason: "content_type", detail: `content type ${contentType.slice(0, 100)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(message.body));
  } catch (error) {
    return { kind: "rejected", reason: "not_json", detail: (error as Error).message.slice(0, 200) };
  }
  const outer = envelope.safeParse(json);
  if (!outer.success) return { kind: "rejected", reason: "schema", detail: describe(outer.error) };

  // v2 wraps every type as {type, data}; v1 carries the changegroup data itself.
  let data: unknown = outer.data.payload;
  if ("type" in outer.data.payload) {
    const v2 = v2Payload.safeParse(outer.data.payload);
    if (!v2.success) return { kind: "rejected", reason: "schema", detail: describe(v2.error) };
    if (v2.data.type !== "changegroup.1") return { kind: "skipped", reason: "other_type" };
    data = v2.data.data;
  }
  const cg = changegroup.safeParse(data);
  if (!cg.success) return { kind: "rejected", reason: "schema", detail: describe(cg.error) };

  const repository = repositoryPath(cg.data.repo_url, hgUrl);
  if (repository === undefined) {
    const origin = URL.canParse(cg.data.repo_url) ? new URL(cg.data.repo_url).origin : undefined;
    return {
      kind: "rejected",
      reason: "foreign_host",
      detail: `repo_url ${cg.data.repo_url.slice(0, 200)}`,
      ...(origin ? { origin: origin.slice(0, 200) } : {}),
    };
  }
  if (message.routingKey !== "" && message.routingKey !== repository) {
    return {
      kind: "rejected",
      reason: "routing_mismatch",
      detail: `routing key ${message.routingKey.slice(0, 200)} for ${repository}`,
    };
  }
  if (cg.data.pushlog_pushes.length === 0) return { kind: "skipped", reason: "empty_push", repository };

  const seen = new Set<number>();
  const pushes: Push[] = [];
  for (const entry of cg.data.pushlog_pushes) {
    if (seen.has(entry.pushid)) continue;
    seen.add(entry.pushid);
    pushes.push({ repository, pushId: entry.pushid, pushTime: messagePushTime(entry.time), user: entry.user });
  }
  pushes.sort((a, b) => a.pushId - b.pushId);
  return { kind: "pushes", repository, pushes };
}

/**
 * The push ids a message body names, read as leniently as possible (for showing a set-aside message,
 * which may be malformed): v2 `payload.data.pushlog_pushes`, or v1 `payload.pushlog_pushes`.
 */
export function namedPushIds(body: Uint8Array): number[] {
  try {
    const json = JSON.parse(Buffer.from(body).toString("utf8")) as { payload?: { data?: { pushlog_pushes?: unknown }; pushlog_pushes?: unknown } };
    const entries = json.payload?.data?.pushlog_pushes ?? json.payload?.pushlog_pushes;
    return Array.isArray(entries) ? entries.map((e) => (e as { pushid?: unknown }).pushid).filter((id): id is number => typeof id === "number") : [];
  } catch {
    return [];
  }
}
