// Asks the Phabricator mirror which commits it has (wire-formats §4). With a Conduit token:
// diffusion.commit.search, up to 100 identifiers a call, constrained to the repository. Without:
// one HEAD of the commit page per commit. The token travels only in the form body.
import { z } from "zod";
import { UpstreamError, mapLimited, type Upstream } from "./upstream.ts";

export const CONDUIT_PAGE = 100;

export class ConduitError extends Error {
  readonly code: string;
  constructor(method: string, code: string, info: string | null) {
    super(`${method}: ${code}${info ? ` (${info.slice(0, 300)})` : ""}`);
    this.name = "ConduitError";
    this.code = code;
  }
}

const envelope = z.object({
  result: z.unknown(),
  error_code: z.string().nullable(),
  error_info: z.string().nullable(),
});

const searchResult = z.object({
  data: z.array(z.object({ fields: z.record(z.string(), z.unknown()) }).passthrough()),
  cursor: z.object({ after: z.union([z.string(), z.number()]).nullable() }).passthrough(),
});

export interface ConduitClient {
  /** Calls a Conduit method and returns its `result`; throws on an error envelope. */
  call(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown>;
  /** Calls a `*.search` method and follows `after` until the last page. */
  search(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<Array<{ fields: Record<string, unknown> }>>;
}

export function createConduitClient(upstream: Upstream, token: string): ConduitClient {
  async function call(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const form = new URLSearchParams({
      params: JSON.stringify({ ...params, __conduit__: { token } }),
      output: "json",
    });
    const { text } = await upstream.request({
      method: "POST",
      path: `/api/${method}`,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      signal,
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UpstreamError("phabricator", `${method}: the body is not JSON (${text.length} bytes)`);
    }
    const parsed = envelope.safeParse(json);
    if (!parsed.success) throw new UpstreamError("phabricator", `${method}: not a Conduit response`);
    if (parsed.data.error_code !== null) throw new ConduitError(method, parsed.data.error_code, parsed.data.error_info);
    return parsed.data.result;
  }

  return {
    call,
    async search(method, params, signal) {
      const rows: Array<{ fields: Record<string, unknown> }> = [];
      let after: string | null = null;
      // Bounded: a search that pages forever is a broken server, not more data.
      for (let page = 0; page < 1000; page++) {
        const result = searchResult.safeParse(await call(method, after === null ? params : { ...params, after }, signal));
        if (!result.success) throw new UpstreamError("phabricator", `${method}: unexpected result shape`);
        rows.push(...result.data.data);
        const next = result.data.cursor.after;
        if (next === null) return rows;
        after = String(next);
      }
      throw new UpstreamError("phabricator", `${method}: still paging after 1000 pages`);
    },
  };
}

export interface MirrorChecker {
  /** The subset of `nodes` that the mirror of `callsign` has. Throws when it cannot tell. */
  mirrored(callsign: string, nodes: readonly string[], signal?: AbortSignal): Promise<Set<string>>;
  /** How the mirror is asked: Conduit search, or one HEAD per commit. */
  readonly kind: "conduit" | "head";
}

export function conduitMirrorChecker(conduit: ConduitClient, concurrency = 4): MirrorChecker {
  return {
    kind: "conduit",
    async mirrored(callsign, nodes, signal) {
      const chunks: string[][] = [];
      for (let i = 0; i < nodes.length; i += CONDUIT_PAGE) chunks.push(nodes.slice(i, i + CONDUIT_PAGE));
      const found = new Set<string>();
      await mapLimited(chunks, concurrency, async (identifiers) => {
        const rows = await conduit.search(
          "diffusion.commit.search",
          { constraints: { repositories: [`r${callsign}`], identifiers }, limit: CONDUIT_PAGE },
          signal,
        );
        for (const row of rows) {
          const identifier = row.fields.identifier;
          if (typeof identifier === "string") found.add(identifier);
        }
      });
      // Identifiers match by prefix too; only the full nodes that were asked about count.
      return new Set(nodes.filter((n) => found.has(n)));
    },
  };
}

export function headMirrorChecker(upstream: Upstream, concurrency: number): MirrorChecker {
  return {
    kind: "head",
    async mirrored(callsign, nodes, signal) {
      const found = new Set<string>();
      await mapLimited(nodes, concurrency, async (node) => {
        const { status } = await upstream.request({ method: "HEAD", path: `/r${callsign}${node}`, accept: [200, 404], signal });
        if (status === 200) found.add(node);
      });
      return found;
    },
  };
}
