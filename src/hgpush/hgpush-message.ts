// Decodes one hgpush Pulse message (mozilla/version-control-tools pylib/vcsreplicator/vcsreplicator/pushnotifications.py, docs/hgmo/notifications.rst) into the pushes it announces, or says why it
// is set aside. Pure: the caller hands in the raw delivery.
import { z } from "zod";
import { NODE_PATTERN, isNode, isRecord } from "../core/json-shape.ts";

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
  /** Unix seconds when this process first read the push: where a push whose time lies in the future counts from (push-time.ts). */
  seenAt?: number;
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

const NODE = z.string().regex(NODE_PATTERN, "not a 40-hex node");

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

export const changegroup = z.object({
  repo_url: z.string().max(2000),
  heads: z.array(NODE).max(10_000),
  source: z.string().optional(),
  pushlog_pushes: z.array(pushlogEntry).max(10_000),
});

type Changegroup = z.infer<typeof changegroup>;

/**
 * The changegroup data of a well-formed message, read without zod; undefined for anything else, which
 * the schema above then reads and says why. Every value it accepts the schema accepts and reads the
 * same (test/hgpush/hgpush-message.test.ts checks it on every sample): zod's objects for 5,000 messages
 * were 24 MB of a drain's 196 MB of garbage.
 */
export function wellFormedChangegroup(data: unknown): Changegroup | undefined {
  if (!isRecord(data)) return undefined;
  const { repo_url: repoUrl, heads, source, pushlog_pushes: entries } = data;
  if (typeof repoUrl !== "string" || repoUrl.length > 2000) return undefined;
  if (!Array.isArray(heads) || heads.length > 10_000 || !heads.every(isNode)) return undefined;
  if (source !== undefined && typeof source !== "string") return undefined;
  if (!Array.isArray(entries) || entries.length > 10_000) return undefined;
  const pushes: Changegroup["pushlog_pushes"] = [];
  for (const entry of entries) {
    if (!isRecord(entry)) return undefined;
    const { pushid, user, time } = entry;
    if (typeof pushid !== "number" || !Number.isSafeInteger(pushid) || pushid <= 0) return undefined;
    if (typeof user !== "string" || user.length > 1000) return undefined;
    if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0 || time >= 1e11) return undefined;
    pushes.push({ pushid, user, time });
  }
  return { repo_url: repoUrl, heads, ...(source === undefined ? {} : { source }), pushlog_pushes: pushes };
}

const envelope = z.object({ payload: z.record(z.string(), z.unknown()) });
const v2Payload = z.object({ type: z.string().max(200), data: z.unknown() });

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid";
}

// The last answer of repositoryPath: a backlog's messages name the same few repo_urls, and parsing two
// URLs per message was 6 MB of a 5,000-message drain's garbage. Same arguments, same answer.
let lastPath: { repoUrl: string; hgUrl: string; path: string | undefined } | undefined;

/** The hg path of `repoUrl` below `hgUrl`, or undefined when it points elsewhere. */
export function repositoryPath(repoUrl: string, hgUrl: string): string | undefined {
  if (lastPath?.repoUrl === repoUrl && lastPath.hgUrl === hgUrl) return lastPath.path;
  const path = parseRepositoryPath(repoUrl, hgUrl);
  lastPath = { repoUrl, hgUrl, path };
  return path;
}

function parseRepositoryPath(repoUrl: string, hgUrl: string): string | undefined {
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
  // The well-formed case is read directly; anything else goes through the schemas, which say what is wrong.
  let data: unknown = isRecord(json) && isRecord(json.payload) ? json.payload : undefined;
  if (data === undefined) {
    const outer = envelope.safeParse(json);
    if (!outer.success) return { kind: "rejected", reason: "schema", detail: describe(outer.error) };
    data = outer.data.payload;
  }
  // v2 wraps every type as {type, data}; v1 carries the changegroup data itself.
  if (isRecord(data) && "type" in data) {
    const v2 =
      typeof data.type === "string" && data.type.length <= 200
        ? { success: true as const, data: { type: data.type, data: data.data } }
        : v2Payload.safeParse(data);
    if (!v2.success) return { kind: "rejected", reason: "schema", detail: describe(v2.error) };
    if (v2.data.type !== "changegroup.1") return { kind: "skipped", reason: "other_type" };
    data = v2.data.data;
  }
  const fast = wellFormedChangegroup(data);
  const cg = fast !== undefined ? { success: true as const, data: fast } : changegroup.safeParse(data);
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
