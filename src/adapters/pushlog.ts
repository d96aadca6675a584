// hg.mozilla.org's json-pushes (wire-formats §2): the changesets of a range of pushes, one request
// per range. The URL is always built from HG_URL, never taken from a message.
import { z } from "zod";
import { UpstreamError, type Upstream } from "./upstream.ts";

const NODE = z.string().regex(/^[0-9a-f]{40}$/);

const pushesV2 = z.object({
  lastpushid: z.number().int().nonnegative(),
  pushes: z.record(
    z.string().regex(/^\d+$/),
    z.object({
      user: z.string(),
      date: z.number(),
      changesets: z.array(NODE),
    }),
  ),
});

export interface PushlogPush {
  pushId: number;
  date: number;
  user: string;
  changesets: string[];
}

export interface PushlogRange {
  /** Exclusive. */
  startId: number;
  /** Inclusive. */
  endId: number;
}

export function pushlogPath(repository: string, range: PushlogRange): string {
  const repo = repository.split("/").map(encodeURIComponent).join("/");
  return `/${repo}/json-pushes?version=2&startID=${range.startId}&endID=${range.endId}`;
}

const revision = z.object({
  node: NODE,
  pushid: z.number().int().positive(),
  // An hgdate pair, [unix seconds, offset] (wire-formats §2.4).
  pushdate: z.tuple([z.number(), z.number()]),
});

export interface PushlogClient {
  fetchRange(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<Map<number, PushlogPush>>;
  /** The id of the last push the pushlog has (replicated). */
  lastPushId(repository: string, signal?: AbortSignal): Promise<number>;
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
  async function getPushes(repository: string, range: PushlogRange, signal?: AbortSignal): Promise<z.infer<typeof pushesV2>> {
    const path = pushlogPath(repository, range);
    const what = `GET ${path.split("?")[0]}`;
    const { text } = await upstream.request({ method: "GET", path, signal, headers: { accept: "application/json" } });
    const parsed = pushesV2.safeParse(parseJson(text, what));
    if (!parsed.success) {
      throw new UpstreamError("hgmo", `${what}: unexpected json-pushes shape at ${parsed.error.issues[0]?.path.join(".")}`);
    }
    return parsed.data;
  }

  return {
    async fetchRange(repository, range, signal) {
      const pushes = new Map<number, PushlogPush>();
      for (const [id, push] of Object.entries((await getPushes(repository, range, signal)).pushes)) {
        const pushId = Number(id);
        if (pushId > range.startId && pushId <= range.endId) {
          pushes.set(pushId, { pushId, date: push.date, user: push.user, changesets: push.changesets });
        }
      }
      return pushes;
    },
    async lastPushId(repository, signal) {
      // An empty range: only lastpushid comes back.
      return (await getPushes(repository, { startId: 0, endId: 0 }, signal)).lastpushid;
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
