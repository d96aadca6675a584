// The answers recorded from the real server software (REAL_DATA_DIR/served, README there) through the
// service's own readers: each recorded answer is served again, with its status, content type and
// location, from the loopback server to the reader that makes that request. A reader must read the
// answer (a slice, a changeset, rows, what a page means) or fail with one line that names the request
// and its status: a parse error, or a refused token repeated in the line, is a failure.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AnonymousAccessError, RefusedTokenError, commitsIn, pageMirror, resolveRepositories, type ConduitClient } from "../src/phabricator/phabricator.ts";
import { UnknownRepositoryError } from "../src/mirror/mirror.ts";
import type { PushlogClient, PushlogRange } from "../src/pushlog/pushlog.ts";
import type { ReviewLookup } from "../src/phabricator/review-lookup.ts";
import type { Upstream } from "../src/upstream/upstream.ts";

/** One answer of the loopback server. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface ServedReaders {
  pushlog: PushlogClient;
  conduit: ConduitClient;
  reviews: ReviewLookup;
  phabricator: Upstream;
  /** The token the Conduit client sends: it must never appear in what a reader says. */
  token: string;
  /** The next answers, in order; the last one is repeated. */
  answer(...answers: Answer[]): void;
}

export interface ServedOutcome {
  file: string;
  ok: boolean;
  detail: string;
}

/** Recorded requests the service never makes, left out by name with the reason. */
export const NOT_ASKED: ReadonlyArray<readonly [RegExp, string]> = [
  [/^setup\.json$/, "the recording's set-up, not an answer"],
  [/^root-index-json\.json$/, "hgweb's index of repositories: never asked"],
  [/-HEAD\.json$/, "a HEAD: pages are read by GET (a HEAD cannot tell a commit from the login form)"],
  [/-logged-in-/, "a signed-in visitor's page: the service sends no session cookie"],
  [/^commit-page-diffusion-/, "the /diffusion/<CALLSIGN>/commit/ form: the service asks /r<CALLSIGN><node>"],
  [/^commit-search-json-body\.json$/, "a JSON-encoded body: the service sends the form encoding"],
];

const fail = (message: string): never => {
  throw new Error(message);
};

/** What an operator reads of a failure: one line naming the status, never a parse error or the token. */
function failureLine(error: unknown, status: number, token: string): string {
  const message = (error as Error).message;
  if (/at position|Unexpected token|not valid JSON/.test(message)) fail(`a parse error, not a line about the answer: ${message}`);
  if (message.includes(token)) fail(`the token is in the line: ${message}`);
  if (!message.includes(`HTTP ${status}`)) fail(`the line does not name HTTP ${status}: ${message}`);
  return `a failure: ${message}`;
}

/** A 200 must be read; any other status must be read as an answer (hgweb's 404s) or be one failure line. */
async function readsOrFails(status: number, token: string, read: () => Promise<string>): Promise<string> {
  if (status === 200) return read();
  try {
    const said = await read();
    if (status !== 404) fail(`HTTP ${status} was read as an answer: ${said}`);
    return said;
  } catch (error) {
    return failureLine(error, status, token);
  }
}

interface HgwebRecording {
  request: string;
  status: number;
  headers: Record<string, string>;
  body: string | null;
  bodyHtml?: { title: string };
}

function rangeOf(query: URLSearchParams): PushlogRange {
  const number = (key: string, otherwise: number) => (/^\d+$/.test(query.get(key) ?? "") ? Number(query.get(key)) : otherwise);
  return { startId: number("startID", 0), endId: number("endID", 1_000_000) };
}

/** The push ids a recorded json-pushes answer lists inside `range` (version 1 is the bare map). */
function listedIn(body: string, range: PushlogRange): number[] {
  const json = JSON.parse(body) as { pushes?: object };
  return Object.keys(json.pushes ?? json)
    .map(Number)
    .filter((id) => id > range.startId && id <= range.endId);
}

/** One recorded hgweb answer, through the pushlog reader that makes that request. */
async function hgweb(recorded: HgwebRecording, r: ServedReaders): Promise<string> {
  const url = new URL(recorded.request.replace(/^GET /, ""), "http://hg.example");
  const type = recorded.headers["content-type"];
  const html = `<html><head><title>${recorded.bodyHtml?.title ?? ""}</title></head></html>`;
  const served: Answer = { status: recorded.status, headers: type === undefined ? {} : { "content-type": type }, text: recorded.body ?? html };
  const [repository = "", command = ""] = url.pathname.slice(1).split(/\/(json-pushes|json-rev|raw-file)\b/);
  if (command === "json-rev") {
    r.answer(served);
    return readsOrFails(recorded.status, r.token, async () => {
      const found = await r.pushlog.fetchRevision(repository, url.pathname.split("/").at(-1) ?? "");
      if (found === undefined) return "no such changeset";
      return found.push === undefined ? `changeset ${found.node.slice(0, 12)}, no push` : `changeset ${found.node.slice(0, 12)} of push ${found.push.pushId}`;
    });
  }
  if (command === "raw-file") {
    r.answer(served);
    return readsOrFails(recorded.status, r.token, async () => {
      const text = await r.pushlog.fetchRawFile(repository, "0".repeat(40), "try_task_config.json");
      return text === undefined ? "no such file at that changeset" : `a file of ${text.length} characters`;
    });
  }
  // The service asks version 2; a version-1 answer is the same map without the wrapper.
  const v1 = (url.searchParams.get("version") ?? "1") === "1" && recorded.status === 200;
  const lastpushid = v1 ? Math.max(0, ...listedIn(recorded.body ?? "{}", { startId: 0, endId: Number.MAX_SAFE_INTEGER })) : 0;
  r.answer(v1 ? { ...served, text: JSON.stringify({ lastpushid, pushes: JSON.parse(recorded.body ?? "{}") as object }) } : served);
  const range = rangeOf(url.searchParams);
  const full = url.searchParams.has("full");
  return readsOrFails(recorded.status, r.token, async () => {
    const slice = full ? await r.pushlog.fetchFullRange(repository, range) : await r.pushlog.fetchRange(repository, range);
    const listed = listedIn(recorded.body ?? "{}", range).length;
    if (slice.pushes.size !== listed) fail(`read ${slice.pushes.size} pushes, the answer lists ${listed} in the range`);
    return `${slice.pushes.size} pushes${full ? " (full)" : ""}, lastpushid ${slice.lastPushId}`;
  });
}

interface PhorgeRecording {
  request: { http: string; params?: Record<string, unknown> };
  response: { status: number; contentType: string; location?: string | null; title?: string | null; body?: unknown };
}

const page = (status: number, title: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { "content-type": "text/html; charset=UTF-8", ...headers },
  text: `<!DOCTYPE html><html><head><title>${title}</title></head><body></body></html>`,
});

/** One recorded Phorge page, through the no-token mirror that asks for it. */
async function phorgePage(recorded: PhorgeRecording, r: ServedReaders): Promise<string> {
  const { response } = recorded;
  const location = response.location ? { location: new URL(new URL(response.location).pathname, r.phabricator.baseUrl).toString() } : undefined;
  const served = page(response.status, response.title ?? "", location);
  const path = recorded.request.http.replace(/^GET /, "");
  const [, callsign = "", node] =
    /^\/(?:diffusion\/([A-Z]+)\/|r([A-Z]+?)([0-9a-f]{40}))$/.exec(path)?.filter((x) => x !== undefined) ?? fail(`no callsign in ${path}`);
  const mirror = pageMirror(r.phabricator, callsign, 1);
  try {
    if (node === undefined) {
      r.answer(served);
      await mirror.exists();
      return "the repository is readable without a token";
    }
    // The repository's page first, as a public instance answers it, then the recorded commit page.
    r.answer(page(200, `repository · r${callsign}`), served);
    return (await mirror.has([node])).has(node) ? "in the mirror" : "not in the mirror";
  } catch (error) {
    if (error instanceof UnknownRepositoryError) return "no such repository: a configuration error";
    if (error instanceof AnonymousAccessError) return "the login page: a token is needed, a configuration error";
    throw error;
  }
}

/** An empty last page, for a search whose recorded page says there is another. */
const LAST_PAGE: Answer = {
  status: 200,
  headers: { "content-type": "application/json" },
  text: JSON.stringify({ result: { data: [], cursor: { after: null } }, error_code: null, error_info: null }),
};

/** A recorded Conduit error: one line naming the code, or the fixed sentence for a refused token. */
async function conduitError(method: string, params: Record<string, unknown>, code: string, r: ServedReaders): Promise<string> {
  try {
    await r.conduit.call(method, params);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(r.token)) fail(`the token is in the line: ${message}`);
    if (code === "ERR-INVALID-AUTH" ? !(error instanceof RefusedTokenError) : !message.includes(code)) fail(`read as ${message}`);
    return `a failure: ${message}`;
  }
  return fail(`the error ${code} was read as an answer`);
}

/** One recorded Conduit answer, through the reader that makes that call. */
async function conduitAnswer(recorded: PhorgeRecording, r: ServedReaders): Promise<string> {
  const method = recorded.request.http.replace(/^POST \/api\//, "");
  const { __conduit__: _auth, ...params } = recorded.request.params ?? {};
  const body = recorded.response.body as { error_code: string | null };
  r.answer({ status: recorded.response.status, headers: { "content-type": recorded.response.contentType }, text: JSON.stringify(body) }, LAST_PAGE);
  if (body.error_code !== null) return conduitError(method, params, body.error_code, r);
  const constraints = (params.constraints ?? {}) as Record<string, unknown[] | undefined>;
  const strings = (key: string) => (constraints[key] ?? []) as string[];
  switch (method) {
    case "diffusion.commit.search": {
      const rows = await r.conduit.search(method, params);
      const repository = strings("repositories")[0] ?? (rows[0]?.fields.repositoryPHID as string | undefined) ?? "";
      return `${commitsIn(rows, repository).length} of ${rows.length} rows are commits of ${repository || "no repository"}`;
    }
    case "diffusion.repository.search":
      return `${(await resolveRepositories(r.conduit, strings("callsigns"))).size} repositories`;
    case "differential.diff.search":
      return `${(await r.reviews.diffs(strings("phids"))).size} diffs`;
    case "differential.revision.search":
      return `${(await r.reviews.revisions(constraints.ids as number[])).size} revisions`;
    case "harbormaster.build.search":
      return `${(await r.reviews.buildStatuses(strings("phids"))).size} build statuses`;
    case "harbormaster.target.search":
      return constraints.buildPHIDs === undefined
        ? `${(await r.reviews.targets(strings("phids"))).size} targets`
        : `${(await r.reviews.targetsOfBuilds(strings("buildPHIDs"))).length} targets of builds`;
    default:
      return `${(await r.conduit.search(method, params)).length} rows`;
  }
}

async function one(kind: "hgweb-vct" | "phorge", text: string, r: ServedReaders): Promise<string> {
  if (kind === "hgweb-vct") return hgweb(JSON.parse(text) as HgwebRecording, r);
  const recorded = JSON.parse(text) as PhorgeRecording;
  return recorded.request.http.startsWith("POST /api/") ? conduitAnswer(recorded, r) : phorgePage(recorded, r);
}

/** Every recorded answer of `dir` (REAL_DATA_DIR/served), each read or left out by name. */
export async function runServed(dir: string, readers: ServedReaders): Promise<ServedOutcome[]> {
  const outcomes: ServedOutcome[] = [];
  for (const kind of ["hgweb-vct", "phorge"] as const) {
    for (const name of readdirSync(join(dir, kind))
      .filter((f) => f.endsWith(".json"))
      .sort()) {
      const file = `served/${kind}/${name}`;
      const left = NOT_ASKED.find(([pattern]) => pattern.test(name));
      if (left) {
        outcomes.push({ file, ok: true, detail: `left out: ${left[1]}` });
        continue;
      }
      try {
        outcomes.push({ file, ok: true, detail: await one(kind, readFileSync(join(dir, kind, name), "utf8"), readers) });
      } catch (error) {
        outcomes.push({ file, ok: false, detail: (error as Error).message });
      }
    }
  }
  return outcomes;
}
