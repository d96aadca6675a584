// The Phabricator kinds of mirror (src/mirror.ts). With a Conduit token: diffusion.commit.search, up
// to 100 identifiers a call, constrained to the repository's PHID. Without: one HEAD of the commit
// page per commit. The token travels only in the form body.
import { z } from "zod";
import { UpstreamError, mapLimited, type Upstream } from "./upstream.ts";
import { UnknownRepositoryError, type Mirror } from "../mirror.ts";
import { isRecord } from "../core/json-shape.ts";

export const CONDUIT_PAGE = 100;

export class ConduitError extends Error {
  readonly code: string;
  constructor(method: string, code: string, info: string | null) {
    super(`${method}: ${code}${info ? ` (${info.slice(0, 300)})` : ""}`);
    this.name = "ConduitError";
    this.code = code;
  }
}

// The server always sends all three keys (ConduitAPIResponse::toDictionary); a body without the
// error keys (as some clients' recorded fixtures have) is read as no error.
const envelope = z.object({
  result: z.unknown(),
  error_code: z.string().nullable().optional().default(null),
  error_info: z.string().nullable().optional().default(null),
});

// A row is checked to be an object with a `fields` object, and not copied: a page of
// diffusion.commit.search is 100 rows of a dozen nested objects each (author, committer, auditStatus,
// policy…), of which the callers read two or three fields and check those themselves. Copying them
// all (z.record, passthrough) cost 200-400 µs a page on top of JSON.parse's 300-440 µs.
const searchRow = z.custom<{ fields: Record<string, unknown> }>((row) => isRecord(row) && isRecord(row.fields));
const searchResult = z.object({
  data: z.array(searchRow),
  cursor: z.object({ after: z.union([z.string(), z.number()]).nullable() }),
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
        for (const row of result.data.data) rows.push(row);
        const next = result.data.cursor.after;
        if (next === null) return rows;
        after = String(next);
      }
      throw new UpstreamError("phabricator", `${method}: still paging after 1000 pages`);
    },
  };
}

const repositoryRow = z.object({ phid: z.string().startsWith("PHID-REPO-"), fields: z.object({ callsign: z.string().nullable(), vcs: z.string() }) });

/**
 * The repository PHID of each callsign that Phabricator knows; a callsign it does not know is absent.
 * diffusion.commit.search's `repositories` constraint takes PHIDs only: given `rMOZILLACENTRAL` it
 * matches no repository and answers an empty list with no error (DiffusionCommitQuery throws
 * PhabricatorEmptyQueryException; phacility/phabricator src/applications/diffusion/query/DiffusionCommitQuery.php).
 */
export async function resolveRepositories(conduit: ConduitClient, callsigns: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const unique = [...new Set(callsigns)];
  for (let i = 0; i < unique.length; i += CONDUIT_PAGE) {
    const rows = await conduit.search(
      "diffusion.repository.search",
      { constraints: { callsigns: unique.slice(i, i + CONDUIT_PAGE) }, limit: CONDUIT_PAGE },
      signal,
    );
    for (const row of rows) {
      const parsed = repositoryRow.safeParse(row);
      if (!parsed.success) throw new UpstreamError("phabricator", "diffusion.repository.search: unexpected row shape");
      if (parsed.data.fields.callsign !== null) found.set(parsed.data.fields.callsign, parsed.data.phid);
    }
  }
  return found;
}

/**
 * `ask`, remembered once it has answered: the check asks early (while it reads the queue) and again
 * when it needs the answer, so callers while it is under way share the one request, and a failure is
 * asked again by the next caller.
 */
function rememberedOnceAnswered<T>(ask: (signal?: AbortSignal) => Promise<T>): (signal?: AbortSignal) => Promise<T> {
  let answer: { value: T } | undefined;
  let pending: Promise<T> | undefined;
  return (signal) => {
    if (answer !== undefined) return Promise.resolve(answer.value);
    pending ??= ask(signal)
      .then((value) => {
        answer = { value };
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/**
 * The Phabricator mirror of one repository through Conduit: diffusion.commit.search constrained to the
 * callsign's repository PHID.
 */
export function conduitMirror(conduit: ConduitClient, callsign: string, concurrency = 4): Mirror {
  // A repository's PHID never changes, so it is looked up once per process; a callsign that is not
  // found is asked again at the next check (it may be created meanwhile).
  const repositoryPHID = rememberedOnceAnswered(async (signal?: AbortSignal) => {
    const found = (await resolveRepositories(conduit, [callsign], signal)).get(callsign);
    if (found === undefined) throw new UnknownRepositoryError(callsign);
    return found;
  });
  return {
    name: callsign,
    how: "diffusion.commit.search (token set)",
    async exists(signal) {
      await repositoryPHID(signal);
    },
    async has(nodes, signal) {
      const repository = await repositoryPHID(signal);
      if (nodes.length === 0) return new Set();
      const chunks: string[][] = [];
      for (let i = 0; i < nodes.length; i += CONDUIT_PAGE) chunks.push(nodes.slice(i, i + CONDUIT_PAGE));
      const found = new Set<string>();
      await mapLimited(chunks, concurrency, async (identifiers) => {
        const rows = await conduit.search("diffusion.commit.search", { constraints: { repositories: [repository], identifiers }, limit: CONDUIT_PAGE }, signal);
        for (const row of rows) {
          const identifier = row.fields.identifier;
          if (typeof identifier === "string" && row.fields.repositoryPHID === repository) found.add(identifier);
        }
      });
      // Identifiers match by prefix too; only the full nodes that were asked about count.
      return new Set(nodes.filter((n) => found.has(n)));
    },
  };
}

/** The Phabricator mirror of one repository without a token: one HEAD of the commit page per commit. */
export function headMirror(upstream: Upstream, callsign: string, concurrency: number): Mirror {
  // Every commit page of a callsign Phabricator does not know is a 404 too, which would read as "not
  // mirrored" for ever: the repository's own page says first whether the callsign exists
  // (DiffusionController answers 404 for an unknown repository), once per process.
  const exists = rememberedOnceAnswered(async (signal?: AbortSignal) => {
    const { status } = await upstream.request({ method: "HEAD", path: `/diffusion/${callsign}/`, accept: [200, 404], signal });
    if (status === 404) throw new UnknownRepositoryError(callsign);
  });
  return {
    name: callsign,
    how: "HEAD per commit (no PHABRICATOR_API_TOKEN)",
    exists,
    async has(nodes, signal) {
      await exists(signal);
      const found = new Set<string>();
      await mapLimited(nodes, concurrency, async (node) => {
        const { status } = await upstream.request({ method: "HEAD", path: `/r${callsign}${node}`, accept: [200, 404], signal });
        if (status === 200) found.add(node);
      });
      return found;
    },
  };
}
