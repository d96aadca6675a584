// The Phabricator kinds of mirror (src/mirror/mirror.ts). With a Conduit token: diffusion.commit.search, up
// to 100 identifiers a call, constrained to the repository's PHID. Without: one HEAD of the commit
// page per commit. The token travels only in the form body.
import { z } from "zod";
import { UpstreamError, jsonOf, mapLimited, type Upstream } from "../upstream/upstream.ts";
import { UnknownRepositoryError, type Mirror, type MirrorKinds } from "../mirror/mirror.ts";
import { isRecord } from "../core/json-shape.ts";
import { scrubSecrets } from "../core/scrub.ts";

export const CONDUIT_PAGE = 100;

export class ConduitError extends Error {
  readonly code: string;
  /** `info` is Phabricator's error_info, already scrubbed of every secret by the caller. */
  constructor(method: string, code: string, info: string | null) {
    super(`${method}: ${code}${info ? ` (${info.slice(0, 300)})` : ""}`);
    this.name = "ConduitError";
    this.code = code;
  }
}

/**
 * Phabricator refused the token. Its error_info repeats the token it was sent ("API token "…" has
 * the wrong length", "… has the wrong format", "… is not valid":
 * PhabricatorConduitAPIController::authenticateUser), so none of it is kept: this fixed sentence is
 * all that leaves the process.
 */
export class RefusedTokenError extends Error {
  constructor() {
    super("Phabricator refused PHABRICATOR_API_TOKEN (ERR-INVALID-AUTH)");
    this.name = "RefusedTokenError";
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

/**
 * @param secrets the process's other secrets, scrubbed from Phabricator's error texts with the token
 * (an error text is Phabricator's to write, and it may repeat what it was sent).
 */
export function createConduitClient(upstream: Upstream, token: string, secrets: readonly (string | undefined)[] = []): ConduitClient {
  async function call(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const form = new URLSearchParams({
      params: JSON.stringify({ ...params, __conduit__: { token } }),
      output: "json",
    });
    const response = await upstream.request({
      method: "POST",
      path: `/api/${method}`,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      signal,
    });
    const parsed = envelope.safeParse(jsonOf("phabricator", response));
    if (!parsed.success) throw new UpstreamError("phabricator", `${response.what}: not a Conduit response`);
    const { error_code: code, error_info: info } = parsed.data;
    if (code === "ERR-INVALID-AUTH") throw new RefusedTokenError();
    if (code !== null) throw new ConduitError(method, code, info === null ? null : scrubSecrets(info, [token, ...secrets]));
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
 * The commits of `repository` that diffusion.commit.search rows name. A row is what "in the mirror"
 * means: Phabricator has discovered the commit, whether or not its import has finished (a row with
 * `isImported: false` and an empty message until then; served/phorge/commit-search-*), which is also
 * when its commit page stops saying "Commit Still Parsing" (see commitPageSays).
 */
export function commitsIn(rows: ReadonlyArray<{ fields: Record<string, unknown> }>, repository: string): string[] {
  return rows.flatMap((row) => (typeof row.fields.identifier === "string" && row.fields.repositoryPHID === repository ? [row.fields.identifier] : []));
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
        for (const identifier of commitsIn(rows, repository)) found.add(identifier);
      });
      // Identifiers match by prefix too; only the full nodes that were asked about count.
      return new Set(nodes.filter((n) => found.has(n)));
    },
  };
}

/**
 * Anonymous requests get Phabricator's login form instead of the repository: on an instance (or for a
 * repository) that only signed-in users can see, every page is a 200 login page, for known, unknown
 * and nonexistent commits alike, so without a token nothing about the mirror can be known.
 */
export class AnonymousAccessError extends Error {
  constructor(callsign: string, url: string) {
    super(
      `PHABRICATOR_API_TOKEN: needed for ${callsign}: anonymous requests to ${url} get Phabricator's login page, not the repository (the instance or the repository is not visible without an account)`,
    );
    this.name = "AnonymousAccessError";
  }
}

/** The text of an HTML page's `<title>`, or undefined when it has none. */
export function pageTitle(html: string): string | undefined {
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  if (!match) return undefined;
  return (match[1] as string)
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&middot;/g, "\u00b7")
    .replace(/&amp;/g, "&")
    .trim();
}

/** Phabricator's login form, which anonymous users get for every page they may not see (PhabricatorAuthStartController). */
const isLoginPage = (title: string | undefined) => title === "Login";

/**
 * Whether Phabricator has a row for a commit, read from its commit page `/r<CALLSIGN><node>`
 * (DiffusionCommitController): the commit's page once it is discovered (titled with its monogram,
 * `r<CALLSIGN><first 12 hex>`, whether or not its import has finished), "Commit Still Parsing" while it
 * is only in Phabricator's working copy (no row yet: what diffusion.commit.search says too), 404 when
 * Phabricator does not have it at all. So both modes mean the same by "in the mirror": a row.
 */
export function commitPageSays(
  callsign: string,
  node: string,
  page: { status: number; title: string | undefined },
): "mirrored" | "missing" | "login" | "unexpected" {
  if (page.status === 404) return "missing";
  if (page.status !== 200) return "unexpected";
  if (isLoginPage(page.title)) return "login";
  if (page.title === "Commit Still Parsing") return "missing";
  return page.title?.startsWith(`r${callsign}${node.slice(0, 12)}`) ? "mirrored" : "unexpected";
}

/**
 * The repository page `/diffusion/<CALLSIGN>/` (DiffusionController::loadContext): a 302 to its
 * canonical `/source/<short name>/` for a repository with a short name (Mozilla's have one), its page
 * (titled `<name> · r<CALLSIGN>`) for one without, 404 for a callsign Phabricator does not know, and
 * the 200 login page when anonymous users may not see it. Only the first two prove the anonymous
 * requests reach the repository.
 */
export function repositoryPageSays(
  callsign: string,
  page: { status: number; title: string | undefined; location: string | undefined },
  origin: string,
): "exists" | "unknown" | "login" | "unexpected" {
  if (page.status === 404) return "unknown";
  if (page.status === 302) {
    const target = page.location === undefined ? undefined : URL.parse(page.location, origin);
    return target?.origin === origin && target.pathname.startsWith("/source/") ? "exists" : "unexpected";
  }
  if (page.status !== 200) return "unexpected";
  if (isLoginPage(page.title)) return "login";
  return page.title?.includes(`r${callsign}`) ? "exists" : "unexpected";
}

/**
 * The Phabricator mirror of one repository without a token: one GET of the commit page per commit,
 * read by its title (a HEAD cannot tell a commit's page from "Commit Still Parsing" or the login form:
 * all three are a 200 with an empty body).
 */
export function pageMirror(upstream: Upstream, callsign: string, concurrency: number): Mirror {
  const origin = new URL(upstream.baseUrl).origin;
  const unexpected = (what: string, status: number, title: string | undefined) =>
    new UpstreamError("phabricator", `${what}: HTTP ${status}, a page titled ${JSON.stringify(title ?? "")}, neither the repository nor a 404`, status);
  // Every commit page of a callsign Phabricator does not know is a 404 too, which would read as "not
  // mirrored" for ever, and on a private instance every page is the login form: the repository's own
  // page says first which it is, once per process.
  const exists = rememberedOnceAnswered(async (signal?: AbortSignal) => {
    const response = await upstream.request({ method: "GET", path: `/diffusion/${callsign}/`, accept: [200, 302, 404], signal });
    const page = { status: response.status, title: pageTitle(response.text), location: response.location };
    const says = repositoryPageSays(callsign, page, origin);
    if (says === "unknown") throw new UnknownRepositoryError(callsign, `${response.what} is a 404`);
    if (says === "login") throw new AnonymousAccessError(callsign, upstream.baseUrl);
    if (says === "unexpected") throw unexpected(response.what, page.status, page.title);
  });
  return {
    name: callsign,
    how: "a commit page per commit (no PHABRICATOR_API_TOKEN)",
    exists,
    async has(nodes, signal) {
      await exists(signal);
      const found = new Set<string>();
      await mapLimited(nodes, concurrency, async (node) => {
        const response = await upstream.request({ method: "GET", path: `/r${callsign}${node}`, accept: [200, 404], signal });
        const title = pageTitle(response.text);
        const says = commitPageSays(callsign, node, { status: response.status, title });
        if (says === "login") throw new AnonymousAccessError(callsign, upstream.baseUrl);
        if (says === "unexpected") throw unexpected(response.what, response.status, title);
        if (says === "mirrored") found.add(node);
      });
      return found;
    },
  };
}

/** The Phabricator kinds of mirror this process can offer: Conduit with a token, the pages without. */
export function phabricatorMirrorKinds(upstream: Upstream, token: string | undefined, pageConcurrency: number, secrets: readonly string[] = []): MirrorKinds {
  const conduit = token ? createConduitClient(upstream, token, secrets) : undefined;
  return {
    ...(conduit === undefined ? {} : { "phabricator-conduit": (spec) => conduitMirror(conduit, spec.callsign) }),
    "phabricator-page": (spec) => pageMirror(upstream, spec.callsign, pageConcurrency),
  };
}
