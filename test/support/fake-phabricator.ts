// A local stand-in for Phabricator over real HTTP: Conduit's *.search methods and Diffusion's pages,
// answering as real Phorge answered the requests recorded in ../shared/real-data/served/phorge/ (replayed
// by test/fake-phabricator-replay.test.ts), and as Mozilla's fork mozilla-conduit/phabricator answers
// where the two differ. Each behaviour names its source beside it, in fake-phabricator/:
// - conduit.ts: the request, the token check and the error texts (PhabricatorConduitAPIController);
// - envelope.ts: the answer, HTTP 200 even for an error;
// - search-engine.ts, constraints.ts: the generic *.search (constraints, page size, cursors);
// - commit-search.ts, repository-search.ts, differential.ts, harbormaster.ts: each method's rows;
// - store.ts, review-store.ts: the objects, and how builds, buildables and revisions move;
// - pages.ts: the repository and commit pages, the login form, the redirects to short names.
// The faults and throttles are a test's, not Phabricator's: a proxy's 429/502, a 500, a hang.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./local-server.ts";
import type { Fault as HttpFault } from "./fake-hg.ts";
import { answerConduit, type ConduitServer } from "./fake-phabricator/conduit.ts";
import { commitSearch } from "./fake-phabricator/commit-search.ts";
import { diffSearch, revisionSearch } from "./fake-phabricator/differential.ts";
import { coreFault, writeConduit } from "./fake-phabricator/envelope.ts";
import { buildSearch, buildableSearch, targetSearch } from "./fake-phabricator/harbormaster.ts";
import { answerPage, pageResponse } from "./fake-phabricator/pages.ts";
import { repositorySearch } from "./fake-phabricator/repository-search.ts";
import { ReviewStore, type BuildSpec, type DiffSpec, type FakeTarget } from "./fake-phabricator/review-store.ts";
import { runSearch, type SearchRequest, type SearchSpec } from "./fake-phabricator/search-engine.ts";
import { Ids, RepositoryStore, type FakeCommit, type Vcs } from "./fake-phabricator/store.ts";

export type { FakeTarget } from "./fake-phabricator/review-store.ts";
export type { FakeCommit } from "./fake-phabricator/store.ts";

/** The HTTP faults of the hg fake, plus a Conduit error envelope (HTTP 200, error_code set). */
export type Fault = Exclude<HttpFault, "truncate"> | "conduit-error";

export interface FakePhabricator {
  url: string;
  token: string;
  /** `private`: every page asked without the session cookie is the login form (an instance anonymous users cannot see). */
  anonymous: "public" | "private";
  /** The `phsid` cookie of a signed-in user. */
  session: string;
  /**
   * The view policy of every object, the instance's most open policy when they were created
   * (PhabricatorPolicies::getMostOpenPolicy): `public` on Mozilla's instance, `users` where anonymous
   * users are not allowed.
   */
  viewPolicy: "public" | "users";
  /** A Diffusion repository; its PHID is what diffusion.commit.search's `repositories` takes. */
  addRepository(callsign: string, options?: { vcs?: Vcs; name?: string; shortName?: string | null; phid?: string }): string;
  repositoryPHID(callsign: string): string | undefined;
  /** Commits discovered and imported: a Conduit row, `isImported: true`; their pages. */
  mirror(callsign: string, nodes: readonly (string | FakeCommit)[]): void;
  /** Commits discovered whose import has not finished: a row with `isImported: false` and no message. */
  discover(callsign: string, nodes: readonly (string | FakeCommit)[]): void;
  /** Commits in Phabricator's working copy only: no row; their page says "Commit Still Parsing". */
  pull(callsign: string, nodes: readonly (string | FakeCommit)[]): void;
  /** A diff (and its revision, when `revisionId` is given). */
  addDiff(diff: DiffSpec): void;
  /**
   * A build on the diff's buildable (made on first use; a buildable can hold several builds, one per
   * build plan). Its first target is the code-review bot's step, waiting for a message; `targets`
   * more than one adds other steps' targets.
   */
  addBuild(diffPHID: string, options?: BuildSpec): { buildPHID: string; targetPHIDs: string[] };
  /** The code-review target of the diff's newest build, of its newest generation: what the bot's try_task_config names. */
  botTarget(diffPHID: string): string | undefined;
  /** Aborting a build sets the build's status only; its targets stay `target/waiting`. */
  setBuildStatus(buildPHID: string, status: "aborted" | "error" | "building" | "passed" | "failed", at?: number): void;
  /** What the code-review bot's harbormaster.sendmessage pass/fail does to a target. */
  finishTarget(targetPHID: string, outcome: "passed" | "failed" | "aborted", epochCompleted: number): void;
  /** A restart of the build: a new generation of its targets, waiting again. */
  restartBuild(buildPHID: string, at: number): string[];
  targets: Map<string, FakeTarget>;
  /** Conduit calls by method name. */
  calls(method?: string): number;
  requests: Array<{ method: string; path: string; params?: Record<string, unknown> }>;
  /** Every raw body Conduit received, to check what travelled in them. */
  bodies: string[];
  latencyMs: number;
  fault: Fault;
  /**
   * The next `times` requests are answered with a throttle (429 with Retry-After, as Phabricator's
   * rate limiter and proxies send) or a proxy's 502 HTML page, then normal answers resume.
   */
  throttle: { status: 429 | 502; retryAfterS?: number; times: number } | undefined;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function searchMethods(fake: FakePhabricator, repositories: RepositoryStore, reviews: ReviewStore): Map<string, (params: SearchRequest) => unknown> {
  const origin = () => fake.url;
  const policy = () => fake.viewPolicy;
  const specs: Array<[string, SearchSpec<never>]> = [
    ["diffusion.commit.search", commitSearch(repositories, policy) as SearchSpec<never>],
    ["diffusion.repository.search", repositorySearch(repositories, policy) as SearchSpec<never>],
    ["differential.diff.search", diffSearch(reviews, policy) as SearchSpec<never>],
    ["differential.revision.search", revisionSearch(reviews, origin, policy) as SearchSpec<never>],
    ["harbormaster.buildable.search", buildableSearch(reviews, origin, policy) as SearchSpec<never>],
    ["harbormaster.build.search", buildSearch(reviews, policy) as SearchSpec<never>],
    ["harbormaster.target.search", targetSearch(reviews, policy) as SearchSpec<never>],
  ];
  return new Map(specs.map(([method, spec]) => [method, (params: SearchRequest) => runSearch(spec, params)]));
}

/** A test's throttle or fault, answered before Phabricator would see the request; true when it answered. */
async function answerTestFault(fake: FakePhabricator, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (fake.throttle && fake.throttle.times > 0) {
    fake.throttle.times--;
    fake.requests.push({ method: req.method ?? "GET", path });
    await readBody(req);
    const headers: Record<string, string> = { "content-type": "text/html" };
    if (fake.throttle.retryAfterS !== undefined) headers["retry-after"] = String(fake.throttle.retryAfterS);
    res.writeHead(fake.throttle.status, headers);
    res.end(
      fake.throttle.status === 502 ? "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>" : "<html>Too Many Requests</html>",
    );
    return true;
  }
  if (fake.fault !== "500" && fake.fault !== "hang" && fake.fault !== "stall") return false;
  fake.requests.push({ method: req.method ?? "GET", path });
  if (fake.fault === "500") {
    res.writeHead(500, { "content-type": "text/html" });
    res.end("<html>Unhandled Exception</html>");
  } else if (fake.fault === "stall") {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"result": {"data": [');
  }
  return true;
}

export async function startFakePhabricator(options: { token?: string; latencyMs?: number; anonymous?: "public" | "private" } = {}): Promise<FakePhabricator> {
  const ids = new Ids();
  const repositories = new RepositoryStore(ids);
  const reviews = new ReviewStore(ids, () => [...repositories.repositories.values()][0]?.phid ?? null);
  const fake: FakePhabricator = {
    url: "",
    token: options.token ?? "api-fakefakefakefakefakefakefake",
    anonymous: options.anonymous ?? "public",
    session: "fakesessionfakesessionfakesessio",
    viewPolicy: "public",
    addRepository: (callsign, opts = {}) => repositories.add(callsign, opts).phid,
    repositoryPHID: (callsign) => repositories.repositories.get(callsign)?.phid,
    mirror: (callsign, nodes) => repositories.discover(callsign, nodes, true),
    discover: (callsign, nodes) => repositories.discover(callsign, nodes, false),
    pull: (callsign, nodes) => repositories.pull(callsign, nodes),
    addDiff: (diff) => reviews.addDiff(diff),
    addBuild: (diffPHID, opts) => reviews.addBuild(diffPHID, opts),
    botTarget: (diffPHID) => reviews.botTarget(diffPHID),
    setBuildStatus: (buildPHID, status, at) => reviews.setBuildStatus(buildPHID, status, at),
    finishTarget: (phid, outcome, epochCompleted) => reviews.finishTarget(phid, outcome, epochCompleted),
    restartBuild: (buildPHID, at) => reviews.restartBuild(buildPHID, at),
    targets: reviews.targets,
    calls: (method) => fake.requests.filter((r) => r.path.startsWith("/api/") && (method === undefined || r.path === `/api/${method}`)).length,
    requests: [],
    bodies: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    throttle: undefined,
    close: () => Promise.resolve(),
  };
  const conduit: ConduitServer = {
    token: "",
    methods: searchMethods(fake, repositories, reviews),
    injectedFault: () => (fake.fault === "conduit-error" ? coreFault("Query (of class PhabricatorRepositoryQuery) overheated.") : undefined),
  };
  const site = { origin: () => fake.url, anonymous: () => fake.anonymous, session: () => fake.session, repositories };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    if (await answerTestFault(fake, req, res, url.pathname)) return;
    const api = /^\/api\/([^/]+)$/.exec(url.pathname);
    if (api) {
      const body = await readBody(req);
      fake.bodies.push(body);
      conduit.token = fake.token;
      const call = answerConduit(conduit, api[1] as string, req.headers["content-type"], body, url.searchParams);
      fake.requests.push({ method: req.method ?? "POST", path: url.pathname, ...(call.params ? { params: call.params } : {}) });
      return writeConduit(res, call.answer);
    }
    fake.requests.push({ method: req.method ?? "GET", path: url.pathname });
    const page = pageResponse(answerPage(site, url.pathname, req.headers.cookie));
    res.writeHead(page.status, page.headers);
    res.end(page.body);
  }

  const server = await listenLocal(handle);
  fake.url = server.url;
  fake.close = server.close;
  return fake;
}
