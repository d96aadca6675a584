// hg.mozilla.org's json-pushes (mozilla/version-control-tools hgext/pushlog/feed.py, docs/hgmo/pushlog.rst): the changesets of a range of pushes, one request
// per range. The URL is always built from HG_URL, never taken from a message.
import { z } from "zod";
import { UpstreamError, describeBody, jsonOf, type Upstream, type UpstreamResponse } from "../upstream/upstream.ts";
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
 * (test/pushlog/pushlog.test.ts checks it on the recorded answers): zod's copies of 25 slices were 13 MB of a
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

/**
 * `tipsonly=1` is never asked for: over a range holding a stripped push, json-pushes answers a 500
 * (hgext/pushlog/feed.py `do_query` takes `push.nodes[0]` of the empty push;
 * served/hgweb-vct/try-tipsonly-after-strip.json), so one stripped Try push would fail every read.
 */
export function pushlogPath(repository: string, range: PushlogRange, full = false): string {
  const repo = repository.split("/").map(encodeURIComponent).join("/");
  // `full` is on whenever the key is present (hgext/pushlog/feed.py: `b"full" in qsparams`), so it
  // is left out, never set to 0.
  return `/${repo}/json-pushes?version=2${full ? "&full=1" : ""}&startID=${range.startId}&endID=${range.endId}`;
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

// A changeset with no push (it arrived by pull, before the pushlog existed) has `""` for pushid,
// pushdate and pushuser (hgext/hgmo/__init__.py, `addmetadata`; served/hgweb-vct/legacy-json-rev-pulled-node.json).
const revision = z.union([
  z.object({
    node: NODE,
    pushid: z.number().int().positive(),
    // An hgdate pair, [unix seconds, offset] (hgext/hgmo/tests/test-json-changeset.t).
    pushdate: z.tuple([z.number(), z.number()]),
  }),
  z.object({ node: NODE, pushid: z.literal(""), pushdate: z.literal("") }),
]);

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
  /**
   * About the first push id at or after `sinceSec`, found by halving the push ids (at most ~log2(last
   * push id) requests). Push ids, not dates, because json-pushes reads a UNIX-seconds `startdate` as
   * now, and its one other date form is in the server's local time (feed.py `do_parse_date`).
   * `date` need not increase with the id (clock skew), so callers scan from a little before it.
   */
  firstPushIdSince(repository: string, sinceSec: number, signal?: AbortSignal): Promise<number>;
  /** A file's text at a changeset (hgweb raw-file), or undefined when the changeset has no such file (404). */
  fetchRawFile(repository: string, node: string, path: string, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * The changeset `node` of `repository` and the push that brought it (undefined for a changeset
   * older than the pushlog), or undefined when the repository lacks it.
   */
  fetchRevision(
    repository: string,
    node: string,
    signal?: AbortSignal,
  ): Promise<{ node: string; push: { pushId: number; pushTime: number } | undefined } | undefined>;
}

/**
 * hgweb's own 404s are answers: json-rev's `{"error": "unknown revision '…'"}` (JSON) and raw-file's
 * "not found in manifest" or "revision not found" (text/plain). A path hgweb does not serve at all is
 * an HTML page, "Mercurial repository not found" (mercurial/hgweb/hgwebdir_mod.py): the repository is
 * not on HG_URL, which is a failure, never "this changeset is not there".
 */
function notFoundAnswer(response: UpstreamResponse, answers: readonly string[]): boolean {
  if (response.status !== 404) return false;
  if (response.contentType !== undefined && answers.includes(response.contentType)) return true;
  throw new UpstreamError("hgmo", `${response.what}: HTTP 404, ${describeBody(response)}: no such repository on HG_URL`, 404);
}

export function createPushlogClient(upstream: Upstream): PushlogClient {
  async function get<T>(path: string, shape: z.ZodType<T>, signal?: AbortSignal, wellFormed?: (json: unknown) => T | undefined): Promise<T> {
    const response = await upstream.request({ method: "GET", path, signal, headers: { accept: "application/json" } });
    const json = jsonOf("hgmo", response);
    const read = wellFormed?.(json);
    if (read !== undefined) return read;
    const parsed = shape.safeParse(json);
    if (!parsed.success) {
      throw new UpstreamError("hgmo", `${response.what}: unexpected json-pushes shape at ${parsed.error.issues[0]?.path.join(".")}`);
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

  async function getFull(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<PushlogSlice<FullPush>> {
    const body = await get(pushlogPath(repository, range, true), fullPushesV2, signal);
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
    fetchFullRange: (repository, range, signal) => getFull(repository, range, signal),
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
      const response = await upstream.request({ method: "GET", path, signal, accept: [200, 404] });
      return notFoundAnswer(response, ["text/plain"]) ? undefined : response.text;
    },
    async fetchRevision(repository, revisionId, signal) {
      const repo = repository.split("/").map(encodeURIComponent).join("/");
      const path = `/${repo}/json-rev/${encodeURIComponent(revisionId)}`;
      const response = await upstream.request({ method: "GET", path, signal, accept: [200, 404] });
      if (notFoundAnswer(response, ["application/json"])) return undefined;
      const parsed = revision.safeParse(jsonOf("hgmo", response));
      if (!parsed.success) throw new UpstreamError("hgmo", `${response.what}: unexpected json-rev shape`);
      const { node, pushid, pushdate } = parsed.data;
      return { node, push: pushid === "" ? undefined : { pushId: pushid, pushTime: pushdate[0] } };
    },
  };
}
