// hg.mozilla.org's json-pushes (mozilla/version-control-tools hgext/pushlog/feed.py, docs/hgmo/pushlog.rst): the changesets of a range of pushes, one request
// per range. The URL is always built from HG_URL, never taken from a message.
import { z } from "zod";
import { UpstreamError, type Upstream } from "./upstream.ts";
import { NODE_PATTERN, isNode, isRecord } from "../core/json-shape.ts";

const NODE = z.string().regex(NODE_PATTERN);

export const pushesV2 = z.object({
  lastpushid: z.number().int().nonnegative(),
  pushes: z.record(
    z.string().regex(/^\d+$/),
    z.object({
      user: z.string(),
      date: z.number(),
      changesets: z.array(NODE),
      // One per visible changeset, a Git hash or null; absent when none is visible (hgext/pushlog/feed.py).
      git_changesets: z.array(NODE.nullable()).optional(),
    }),
  ),
});

type PushesV2 = z.infer<typeof pushesV2>;

/**
 * A well-formed version=2 answer read without zod; undefined for anything else, which `pushesV2` then
 * reads and says why. Every value it accepts the schema accepts and reads the same
 * (test/pushlog.test.ts checks it on the recorded answers): zod's copies of 25 slices were 13 MB of a
 * 5,000-push drain's garbage.
 */
export function wellFormedPushes(json: unknown): PushesV2 | undefined {
  if (!isRecord(json) || !isRecord(json.pushes)) return undefined;
  const { lastpushid: last } = json;
  if (typeof last !== "number" || !Number.isSafeInteger(last) || last < 0) return undefined;
  const pushes: PushesV2["pushes"] = {};
  for (const [id, push] of Object.entries(json.pushes)) {
    if (!/^\d+$/.test(id) || !isRecord(push)) return undefined;
    const { user, date, changesets, git_changesets: git } = push;
    if (typeof user !== "string" || typeof date !== "number" || !Array.isArray(changesets) || !changesets.every(isNode)) return undefined;
    if (git !== undefined && (!Array.isArray(git) || !git.every((g) => g === null || isNode(g)))) return undefined;
    pushes[id] = { user, date, changesets, ...(git === undefined ? {} : { git_changesets: git as Array<string | null> }) };
  }
  return { lastpushid: last, pushes };
}

export interface PushlogPush {
  pushId: number;
  /** Unix seconds: the pushlog's `date`, the push's own time. */
  pushTime: number;
  user: string;
  changesets: string[];
  /** The Git commit each changeset came from (git-hg-sync), null where the pushlog has none; absent when it lists none. */
  gitChangesets?: Array<string | null>;
}

export interface PushlogRange {
  /** Exclusive. */
  startId: number;
  /** Inclusive. */
  endId: number;
}

export function pushlogPath(repository: string, range: PushlogRange, full = false, tipsOnly = false): string {
  const repo = repository.split("/").map(encodeURIComponent).join("/");
  // `full` is on whenever the key is present (hgext/pushlog/feed.py: `b"full" in qsparams`), so it
  // is left out, never set to 0.
  return `/${repo}/json-pushes?version=2${full ? "&full=1" : ""}${tipsOnly ? "&tipsonly=1" : ""}&startID=${range.startId}&endID=${range.endId}`;
}

// full=1 changeset objects (feed.py pushes_worker); only what the code-review pipeline reads is checked.
const fullChangeset = z.object({ node: NODE, author: z.string(), desc: z.string() });
const fullPushesV2 = z.object({
  lastpushid: z.number().int().nonnegative(),
  pushes: z.record(z.string().regex(/^\d+$/), z.object({ user: z.string(), date: z.number(), changesets: z.array(fullChangeset) })),
});

export interface FullPush {
  pushId: number;
  /** Unix seconds: the pushlog's `date`. */
  pushTime: number;
  user: string;
  changesets: Array<z.infer<typeof fullChangeset>>;
}

const revision = z.object({
  node: NODE,
  pushid: z.number().int().positive(),
  // An hgdate pair, [unix seconds, offset] (hgext/hgmo/tests/test-json-changeset.t).
  pushdate: z.tuple([z.number(), z.number()]),
});

/** The pushes of a range that json-pushes lists, and its `lastpushid` (the last replicated push). */
export interface PushlogSlice<P> {
  pushes: Map<number, P>;
  lastPushId: number;
}

export interface PushlogClient {
  fetchRange(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<PushlogSlice<PushlogPush>>;
  /** The id of the last push the pushlog has (replicated). */
  lastPushId(repository: string, signal?: AbortSignal): Promise<number>;
  /** Like fetchRange, with each changeset's author and description (full=1). */
  fetchFullRange(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<PushlogSlice<FullPush>>;
  /** Like fetchFullRange, with only each push's tip changeset (tipsonly=1). */
  fetchTipsRange(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<PushlogSlice<FullPush>>;
  /**
   * About the first push id at or after `sinceSec`, found by halving the push ids (at most ~log2(last
   * push id) requests). Push ids, not dates, because json-pushes reads a UNIX-seconds `startdate` as
   * now, and its one other date form is in the server's local time (feed.py `do_parse_date`).
   * `date` need not increase with the id (clock skew), so callers scan from a little before it.
   */
  firstPushIdSince(repository: string, sinceSec: number, signal?: AbortSignal): Promise<number>;
  /** A file's text at a changeset (hgweb raw-file), or undefined when the changeset has no such file (404). */
  fetchRawFile(repository: string, node: string, path: string, signal?: AbortSignal): Promise<string | undefined>;
  /** The push that brought `node` into `repository`, or undefined when the repository lacks it. */
  fetchRevision(repository: string, node: string, signal?: AbortSignal): Promise<{ node: string; pushId: number; pushTime: number } | undefined>;
}

/** JSON.parse with an error that names the request, never the body. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError("hgmo", `${what}: the body is not JSON (${text.length} bytes)`);
  }
}

export function createPushlogClient(upstream: Upstream): PushlogClient {
  async function get<T>(path: string, shape: z.ZodType<T>, signal?: AbortSignal, wellFormed?: (json: unknown) => T | undefined): Promise<T> {
    const what = `GET ${path.split("?")[0]}`;
    const { text } = await upstream.request({ method: "GET", path, signal, headers: { accept: "application/json" } });
    const json = parseJson(text, what);
    const read = wellFormed?.(json);
    if (read !== undefined) return read;
    const parsed = shape.safeParse(json);
    if (!parsed.success) {
      throw new UpstreamError("hgmo", `${what}: unexpected json-pushes shape at ${parsed.error.issues[0]?.path.join(".")}`);
    }
    return parsed.data;
  }
  const getPushes = (repository: string, range: PushlogRange, signal?: AbortSignal) => get(pushlogPath(repository, range), pushesV2, signal, wellFormedPushes);
  const toFull = (id: string, push: z.infer<typeof fullPushesV2>["pushes"][string]): FullPush => ({
    pushId: Number(id),
    pushTime: push.date,
    user: push.user,
    changesets: push.changesets,
  });

  async function getFull(repository: string, range: PushlogRange, tipsOnly: boolean, signal?: AbortSignal): Promise<PushlogSlice<FullPush>> {
    const body = await get(pushlogPath(repository, range, true, tipsOnly), fullPushesV2, signal);
    const pushes = new Map<number, FullPush>();
    for (const [id, push] of Object.entries(body.pushes)) {
      const full = toFull(id, push);
      if (full.pushId > range.startId && full.pushId <= range.endId) pushes.set(full.pushId, full);
    }
    return { pushes, lastPushId: body.lastpushid };
  }

  return {
    async fetchRange(repository, range, signal) {
      const body = await getPushes(repository, range, signal);
      const pushes = new Map<number, PushlogPush>();
      for (const [id, push] of Object.entries(body.pushes)) {
        const pushId = Number(id);
        if (pushId > range.startId && pushId <= range.endId) {
          pushes.set(pushId, {
            pushId,
            pushTime: push.date,
            user: push.user,
            changesets: push.changesets,
            ...(push.git_changesets === undefined ? {} : { gitChangesets: push.git_changesets }),
          });
        }
      }
      return { pushes, lastPushId: body.lastpushid };
    },
    fetchFullRange: (repository, range, signal) => getFull(repository, range, false, signal),
    fetchTipsRange: (repository, range, signal) => getFull(repository, range, true, signal),
    async firstPushIdSince(repository, sinceSec, signal) {
      let low = 1;
      let high = (await getPushes(repository, { startId: 0, endId: 0 }, signal)).lastpushid + 1;
      while (low < high) {
        const middle = Math.floor((low + high) / 2);
        // A few ids at once: a stripped push leaves a hole, and the first one listed stands for it.
        const probe = await getPushes(repository, { startId: middle - 1, endId: middle + 9 }, signal);
        const first = Object.entries(probe.pushes)
          .map(([id, p]) => ({ id: Number(id), date: p.date }))
          .sort((a, b) => a.id - b.id)[0];
        if (first === undefined || first.date >= sinceSec) high = middle;
        else low = middle + 1;
      }
      return low;
    },
    async lastPushId(repository, signal) {
      // An empty range: only lastpushid comes back.
      return (await getPushes(repository, { startId: 0, endId: 0 }, signal)).lastpushid;
    },
    async fetchRawFile(repository, node, file, signal) {
      const repo = repository.split("/").map(encodeURIComponent).join("/");
      const path = `/${repo}/raw-file/${encodeURIComponent(node)}/${file.split("/").map(encodeURIComponent).join("/")}`;
      const { status, text } = await upstream.request({ method: "GET", path, signal, accept: [200, 404] });
      return status === 404 ? undefined : text;
    },
    async fetchRevision(repository, node, signal) {
      const repo = repository.split("/").map(encodeURIComponent).join("/");
      const path = `/${repo}/json-rev/${encodeURIComponent(node)}`;
      const { status, text } = await upstream.request({ method: "GET", path, signal, accept: [200, 404] });
      if (status === 404) return undefined;
      const parsed = revision.safeParse(parseJson(text, `GET ${path}`));
      if (!parsed.success) throw new UpstreamError("hgmo", `GET ${path}: unexpected json-rev shape`);
      return { node: parsed.data.node, pushId: parsed.data.pushid, pushTime: parsed.data.pushdate[0] };
    },
  };
}
