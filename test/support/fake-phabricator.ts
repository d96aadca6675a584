// A local stand-in for Phabricator. Each behaviour comes from upstream Phabricator's source
// (github.com/phacility/phabricator @5720a38c), named beside it:
// - Conduit: a form-encoded request, the {result, error_code, error_info} envelope answered with HTTP
//   200 even on error (conduit/controller/PhabricatorConduitAPIController.php), ERR-INVALID-AUTH for a
//   bad token, ERR-CONDUIT-CALL for an unknown method.
// - The generic *.search (search/engine/PhabricatorApplicationSearchEngine.php): an unknown constraint
//   is ERR-CONDUIT-CORE `Constraint "x" is not a valid constraint for this query.`, a limit over 100
//   is ERR-CONDUIT-CORE, rows newest (highest id) first, the `after` cursor an id string.
// - diffusion.repository.search by `callsigns` (repository/query/PhabricatorRepositorySearchEngine.php).
// - diffusion.commit.search (audit/query/PhabricatorCommitSearchEngine.php,
//   diffusion/query/DiffusionCommitQuery.php): `repositories` takes repository PHIDs only; a value
//   that is no repository's PHID (a callsign, a monogram) matches no repository, the query throws
//   PhabricatorEmptyQueryException and the search answers an empty `data` list with no error.
//   Bare identifiers shorter than 7 characters are dropped; a commit the mirror lacks is absent.
// - differential.diff.search, differential.revision.search and the three harbormaster.*.search
//   methods with their constraints and fields (harbormaster/query/*SearchEngine.php,
//   harbormaster/storage/*). A buildable can hold several builds (other build plans); aborting a
//   build changes only the build's status and leaves its targets `target/waiting`
//   (harbormaster/xaction/build/HarbormasterBuildMessageAbortTransaction.php); a restart makes
//   targets of a new buildGeneration and keeps the old ones.
// - The commit pages that answer HEAD /r<CALLSIGN><node>: 200 when the commit is known, 404 when not.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./local-server.ts";
import type { Fault as HttpFault } from "./fake-hg.ts";

/** The HTTP faults of the hg fake, plus a Conduit error envelope (HTTP 200, error_code set). */
export type Fault = Exclude<HttpFault, "truncate"> | "conduit-error";

export interface FakeTarget {
  phid: string;
  buildPHID: string;
  stepPHID: string;
  status: string;
  epochCompleted: number | null;
  buildGeneration: number;
  dateCreated: number;
}

export interface FakePhabricator {
  url: string;
  token: string;
  /** A Diffusion repository; its PHID is what diffusion.commit.search's `repositories` takes. */
  addRepository(callsign: string, options?: { vcs?: "hg" | "git"; name?: string }): string;
  repositoryPHID(callsign: string): string | undefined;
  /** Marks commits as present in the mirror of `callsign` (a repository added before). */
  mirror(callsign: string, nodes: readonly string[]): void;
  /** A diff (and its revision, when `revisionId` is given). */
  addDiff(diff: { phid: string; id: number; dateCreated: number; revisionId?: number }): void;
  /**
   * A build on the diff's buildable (made on first use; a buildable can hold several builds, one per
   * build plan). Its first target is the code-review bot's step, waiting for a message; `targets`
   * more than one adds other steps' targets.
   */
  addBuild(diffPHID: string, options?: { created?: number; targets?: number; plan?: string }): { buildPHID: string; targetPHIDs: string[] };
  /** The code-review target of the diff's newest build, of its newest generation: what the bot's try_task_config names. */
  botTarget(diffPHID: string): string | undefined;
  /** Aborting a build sets the build's status only; its targets stay `target/waiting`. */
  setBuildStatus(buildPHID: string, status: "aborted" | "error" | "building" | "passed" | "failed"): void;
  /** What the code-review bot's harbormaster.sendmessage pass/fail does to a target. */
  finishTarget(targetPHID: string, outcome: "passed" | "failed" | "aborted", epochCompleted: number): void;
  /** A restart of the build: a new generation of its targets, waiting again. */
  restartBuild(buildPHID: string, at: number): string[];
  targets: Map<string, FakeTarget>;
  /** Conduit calls by method name. */
  calls(method?: string): number;
  requests: Array<{ method: string; path: string; params?: Record<string, unknown> }>;
  /** Every raw form body Conduit received, to check what travelled in them. */
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

function envelope(res: ServerResponse, result: unknown, errorCode: string | null = null, errorInfo: string | null = null): void {
  const text = JSON.stringify({ result, error_code: errorCode, error_info: errorInfo });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A commit's author and committer as diffusion.commit.search writes them (the same person here). */
const FIXTURE_IDENTITY = {
  name: "Fixture",
  email: "fixture@example.com",
  raw: "Fixture <fixture@example.com>",
  epoch: 1714564800,
  identityPHID: "PHID-RIDT-aaaaaaaaaaaaaaaaaaaa",
  userPHID: null,
};

export async function startFakePhabricator(options: { token?: string; latencyMs?: number } = {}): Promise<FakePhabricator> {
  const mirrors = new Map<string, Set<string>>();
  const repositories = new Map<string, { id: number; phid: string; callsign: string; vcs: string; name: string }>();
  let nextId = 1000;
  const ids = new Map<string, number>();
  const diffs = new Map<string, { phid: string; id: number; dateCreated: number; revisionPHID: string | null }>();
  const revisions = new Map<number, { id: number; phid: string; diffPHID: string; dateCreated: number }>();
  const buildables = new Map<string, { id: number; phid: string; objectPHID: string; dateCreated: number }>();
  const builds = new Map<string, { id: number; phid: string; buildablePHID: string; planPHID: string; status: string; dateCreated: number }>();
  const BOT_STEP = "PHID-HMCS-codereview0000000000";
  const targets = new Map<string, FakeTarget & { id: number }>();
  let serial = 0;
  const phidOf = (type: string) => `PHID-${type}-${(++serial).toString(36).padStart(20, "0")}`;
  const makeTargets = (buildPHID: string, count: number, generation: number, at: number) =>
    Array.from({ length: count }, (_, i) => {
      const phid = phidOf("HMBT");
      const stepPHID = i === 0 ? BOT_STEP : `PHID-HMCS-otherstep${String(i).padStart(11, "0")}`;
      targets.set(phid, {
        id: ++nextId,
        phid,
        buildPHID,
        stepPHID,
        status: "target/waiting",
        epochCompleted: null,
        buildGeneration: generation,
        dateCreated: at,
      });
      return phid;
    });
  const fake: FakePhabricator = {
    url: "",
    token: options.token ?? "api-fakefakefakefakefakefakefake",
    requests: [],
    bodies: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    throttle: undefined,
    addRepository(callsign, opts = {}) {
      const known = repositories.get(callsign);
      if (known) return known.phid;
      const repo = { id: repositories.size + 1, phid: phidOf("REPO"), callsign, vcs: opts.vcs ?? "hg", name: opts.name ?? callsign.toLowerCase() };
      repositories.set(callsign, repo);
      mirrors.set(callsign, new Set());
      return repo.phid;
    },
    repositoryPHID: (callsign) => repositories.get(callsign)?.phid,
    mirror(callsign, nodes) {
      const set = mirrors.get(callsign);
      if (!set) throw new Error(`the fake has no repository ${callsign}: addRepository first`);
      for (const node of nodes) {
        set.add(node);
        if (!ids.has(node)) ids.set(node, nextId++);
      }
    },
    addDiff({ phid, id, dateCreated, revisionId }) {
      let revisionPHID: string | null = null;
      if (revisionId !== undefined) {
        revisionPHID = revisions.get(revisionId)?.phid ?? phidOf("DREV");
        revisions.set(revisionId, { id: revisionId, phid: revisionPHID, diffPHID: phid, dateCreated });
      }
      diffs.set(phid, { phid, id, dateCreated, revisionPHID });
    },
    addBuild(diffPHID, options = {}) {
      const at = options.created ?? diffs.get(diffPHID)?.dateCreated ?? 1714564800;
      let buildable = [...buildables.values()].find((b) => b.objectPHID === diffPHID);
      if (!buildable) {
        buildable = { id: ++nextId, phid: phidOf("HMBB"), objectPHID: diffPHID, dateCreated: at };
        buildables.set(buildable.phid, buildable);
      }
      const build = {
        id: ++nextId,
        phid: phidOf("HMBD"),
        buildablePHID: buildable.phid,
        planPHID: options.plan ?? "PHID-HMCP-codereview0000000000",
        status: "building",
        dateCreated: at,
      };
      builds.set(build.phid, build);
      return { buildPHID: build.phid, targetPHIDs: makeTargets(build.phid, options.targets ?? 1, 1, at) };
    },
    botTarget(diffPHID) {
      const buildable = [...buildables.values()].find((b) => b.objectPHID === diffPHID);
      const newest = [...builds.values()].filter((b) => b.buildablePHID === buildable?.phid).sort((a, b) => b.id - a.id)[0];
      return [...targets.values()]
        .filter((t) => t.buildPHID === newest?.phid && t.stepPHID === BOT_STEP)
        .sort((a, b) => b.buildGeneration - a.buildGeneration)[0]?.phid;
    },
    setBuildStatus(buildPHID, status) {
      const build = builds.get(buildPHID);
      if (!build) throw new Error(`no build ${buildPHID}`);
      build.status = status;
    },
    finishTarget(phid, outcome, epochCompleted) {
      const target = targets.get(phid);
      if (!target) throw new Error(`no target ${phid}`);
      target.status = `target/${outcome}`;
      target.epochCompleted = epochCompleted;
      // The build follows its targets (HarbormasterBuildEngine): failed when one fails, passed when all pass.
      const build = builds.get(target.buildPHID);
      const current = [...targets.values()].filter((t) => t.buildPHID === target.buildPHID && t.buildGeneration === target.buildGeneration);
      if (build && outcome === "failed") build.status = "failed";
      else if (build && current.every((t) => t.status === "target/passed")) build.status = "passed";
    },
    restartBuild(buildPHID, at) {
      const current = [...targets.values()].filter((t) => t.buildPHID === buildPHID);
      const generation = Math.max(...current.map((t) => t.buildGeneration)) + 1;
      const build = builds.get(buildPHID);
      if (build) build.status = "building";
      return makeTargets(buildPHID, current.filter((t) => t.buildGeneration === generation - 1).length, generation, at);
    },
    targets,
    calls: (method) => fake.requests.filter((r) => r.path.startsWith("/api/") && (method === undefined || r.path === `/api/${method}`)).length,
    close: () => Promise.resolve(),
  };

  type Row = { id: number; type: string; phid: string; fields: Record<string, unknown> };
  const constraintsOf = (params: Record<string, unknown>) => (params.constraints ?? {}) as Record<string, unknown>;
  const list = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);

  /** The generic *.search of §4.2: known constraints only, 1–100 rows a page, newest first, `after` cursor. */
  function search(
    res: ServerResponse,
    params: Record<string, unknown>,
    rows: Row[],
    known: string[],
    keep: (row: Row, c: Record<string, unknown>) => boolean,
  ): void {
    const constraints = constraintsOf(params);
    for (const key of Object.keys(constraints)) {
      if (![...known, "ids", "phids"].includes(key)) {
        return envelope(res, null, "ERR-CONDUIT-CORE", `Constraint "${key}" is not a valid constraint for this query.`);
      }
    }
    const limit = typeof params.limit === "number" ? params.limit : 100;
    if (limit > 100) {
      return envelope(res, null, "ERR-CONDUIT-CORE", `Maximum page size for Conduit API method calls is 100, but this call specified ${limit}.`);
    }
    const ids = list(constraints.ids);
    const phids = list(constraints.phids);
    const matching = rows.filter((r) => (!ids || ids.includes(r.id)) && (!phids || phids.includes(r.phid)) && keep(r, constraints)).sort((a, b) => b.id - a.id);
    const after = typeof params.after === "string" ? Number(params.after) : undefined;
    const rest = matching.filter((r) => after === undefined || r.id < after);
    const page = rest.slice(0, limit);
    envelope(res, {
      data: page.map((r) => ({ ...r, attachments: {} })),
      maps: {},
      query: { queryKey: null },
      cursor: { limit, after: rest.length > page.length ? String(page.at(-1)?.id) : null, before: null, order: null },
    });
  }

  function conduitSearch(method: string, res: ServerResponse, params: Record<string, unknown>): boolean {
    const stamps = (at: number) => ({ dateCreated: at, dateModified: at });
    switch (method) {
      case "differential.diff.search":
        search(
          res,
          params,
          [...diffs.values()].map((d) => ({
            id: d.id,
            type: "DIFF",
            phid: d.phid,
            fields: {
              revisionPHID: d.revisionPHID,
              authorPHID: "PHID-USER-aaaaaaaaaaaaaaaaaaaa",
              repositoryPHID: "PHID-REPO-saax4qdxlbbhahhp2kg5",
              refs: [],
              ...stamps(d.dateCreated),
              policy: { view: "public" },
            },
          })),
          ["revisionPHIDs"],
          (r, c) => !list(c.revisionPHIDs) || (list(c.revisionPHIDs) ?? []).includes(r.fields.revisionPHID),
        );
        return true;
      case "differential.revision.search":
        search(
          res,
          params,
          [...revisions.values()].map((r) => ({
            id: r.id,
            type: "DREV",
            phid: r.phid,
            fields: {
              title: `Revision ${r.id}`,
              diffPHID: r.diffPHID,
              status: { value: "needs-review", name: "Needs Review", closed: false, "color.ansi": "magenta" },
              ...stamps(r.dateCreated),
            },
          })),
          [
            "responsiblePHIDs",
            "authorPHIDs",
            "reviewerPHIDs",
            "repositoryPHIDs",
            "statuses",
            "createdStart",
            "createdEnd",
            "modifiedStart",
            "modifiedEnd",
            "affectedPaths",
          ],
          () => true,
        );
        return true;
      case "diffusion.repository.search":
        search(
          res,
          params,
          [...repositories.values()].map((r) => ({
            id: r.id,
            type: "REPO",
            phid: r.phid,
            fields: {
              name: r.name,
              vcs: r.vcs,
              callsign: r.callsign,
              shortName: r.name,
              status: "active",
              isImporting: false,
              almanacServicePHID: null,
              refRules: { fetchRules: [], trackRules: [], permanentRefRules: [] },
              spacePHID: null,
              ...stamps(1539455983),
              policy: { view: "public", edit: "admin", "diffusion.push": "users" },
            },
          })),
          ["callsigns", "shortNames", "status", "hosted", "types", "uris", "almanacServicePHIDs"],
          (r, c) => !list(c.callsigns) || (list(c.callsigns) ?? []).includes(r.fields.callsign),
        );
        return true;
      case "harbormaster.buildable.search":
        search(
          res,
          params,
          [...buildables.values()].map((b) => ({
            id: b.id,
            type: "HMBB",
            phid: b.phid,
            fields: {
              objectPHID: b.objectPHID,
              containerPHID: null,
              buildableStatus: { value: "building" },
              isManual: false,
              uri: `/B${b.id}`,
              ...stamps(b.dateCreated),
            },
          })),
          ["objectPHIDs", "containerPHIDs", "statuses", "manual"],
          (r, c) => !list(c.objectPHIDs) || (list(c.objectPHIDs) ?? []).includes(r.fields.objectPHID),
        );
        return true;
      case "harbormaster.build.search":
        search(
          res,
          params,
          [...builds.values()].map((b) => ({
            id: b.id,
            type: "HMBD",
            phid: b.phid,
            fields: {
              buildablePHID: b.buildablePHID,
              buildPlanPHID: b.planPHID,
              buildStatus: { value: b.status, name: b.status, "color.ansi": "blue" },
              initiatorPHID: null,
              name: "Code Review",
              ...stamps(b.dateCreated),
              policy: { view: "public" },
            },
          })),
          ["plans", "buildables", "statuses", "initiators"],
          (r, c) => !list(c.buildables) || (list(c.buildables) ?? []).includes(r.fields.buildablePHID),
        );
        return true;
      case "harbormaster.target.search":
        search(
          res,
          params,
          [...targets.values()].map((t) => ({
            id: t.id,
            type: "HMBT",
            phid: t.phid,
            fields: {
              name: "Make HTTP Request",
              buildPHID: t.buildPHID,
              buildStepPHID: t.stepPHID,
              status: { value: t.status, name: t.status },
              epochStarted: t.dateCreated,
              epochCompleted: t.epochCompleted,
              buildGeneration: t.buildGeneration,
              ...stamps(t.dateCreated),
            },
          })),
          ["buildPHIDs", "statuses", "createdStart", "createdEnd", "startedStart", "startedEnd", "completedStart", "completedEnd"],
          (r, c) =>
            (!list(c.buildPHIDs) || (list(c.buildPHIDs) ?? []).includes(r.fields.buildPHID)) &&
            (!list(c.statuses) || (list(c.statuses) ?? []).includes((r.fields.status as { value: string }).value)) &&
            (typeof c.createdStart !== "number" || (r.fields.dateCreated as number) >= c.createdStart),
        );
        return true;
      default:
        return false;
    }
  }

  function commitSearch(res: ServerResponse, params: Record<string, unknown>): void {
    const constraints = (params.constraints ?? {}) as { repositories?: unknown[]; identifiers?: string[] };
    const limit = typeof params.limit === "number" ? params.limit : 100;
    if (limit > 100) {
      return envelope(res, null, "ERR-CONDUIT-CORE", `Maximum page size for Conduit API method calls is 100, but this call specified ${limit}.`);
    }
    for (const key of Object.keys(constraints)) {
      if (
        ![
          "ids",
          "phids",
          "repositories",
          "identifiers",
          "authors",
          "auditors",
          "responsible",
          "statuses",
          "packages",
          "unreachable",
          "permanent",
          "ancestorsOf",
        ].includes(key)
      ) {
        return envelope(res, null, "ERR-CONDUIT-CORE", `Constraint "${key}" is not a valid constraint for this query.`);
      }
    }
    // Only PHIDs name a repository here; anything else matches none, and DiffusionCommitQuery's
    // PhabricatorEmptyQueryException becomes an empty result, not an error.
    let inRepos: Set<string> | undefined;
    if (constraints.repositories !== undefined && constraints.repositories.length > 0) {
      inRepos = new Set([...repositories.values()].filter((r) => (constraints.repositories ?? []).includes(r.phid)).map((r) => r.callsign));
    }
    const wanted = (constraints.identifiers ?? []).filter((i) => i.length >= 7);
    const rows: Array<{ id: number; node: string; callsign: string }> = [];
    for (const [callsign, nodes] of mirrors) {
      if (inRepos && !inRepos.has(callsign)) continue;
      // DiffusionCommitQuery matches a bare identifier as `commitIdentifier LIKE 'x%' AND
      // LENGTH(commitIdentifier) = 40`, so a full hash matches itself only: looked up directly, which
      // keeps the fake from scanning every mirrored node for each of a call's 100 identifiers.
      for (const identifier of wanted) {
        if (identifier.length === 40) {
          if (nodes.has(identifier)) rows.push({ id: ids.get(identifier) as number, node: identifier, callsign });
          continue;
        }
        for (const node of nodes) if (node.startsWith(identifier)) rows.push({ id: ids.get(node) as number, node, callsign });
      }
    }
    rows.sort((a, b) => b.id - a.id);
    const after = typeof params.after === "string" ? Number(params.after) : undefined;
    const page = rows.filter((r) => after === undefined || r.id < after).slice(0, limit);
    const more = rows.filter((r) => after === undefined || r.id < after).length > page.length;
    envelope(res, {
      data: page.map((r) => ({
        id: r.id,
        type: "CMIT",
        phid: `PHID-CMIT-${String(r.id).padStart(20, "0")}`,
        fields: {
          identifier: r.node,
          repositoryPHID: repositories.get(r.callsign)?.phid,
          author: FIXTURE_IDENTITY,
          committer: FIXTURE_IDENTITY,
          isUnreachable: false,
          isImported: true,
          auditStatus: { value: "none", name: "No Audits", closed: true, "color.ansi": null },
          message: "fixture",
          policy: { view: "public", edit: "admin" },
        },
        attachments: {},
      })),
      maps: {},
      query: { queryKey: null },
      cursor: { limit, after: more ? String(page.at(-1)?.id) : null, before: null, order: null },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    if (fake.throttle && fake.throttle.times > 0) {
      fake.throttle.times--;
      fake.requests.push({ method: req.method ?? "GET", path: url.pathname });
      await readBody(req);
      const headers: Record<string, string> = { "content-type": "text/html" };
      if (fake.throttle.retryAfterS !== undefined) headers["retry-after"] = String(fake.throttle.retryAfterS);
      res.writeHead(fake.throttle.status, headers);
      res.end(
        fake.throttle.status === 502
          ? "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
          : "<html>Too Many Requests</html>",
      );
      return;
    }
    if (fake.fault === "500" || fake.fault === "hang" || fake.fault === "stall") {
      fake.requests.push({ method: req.method ?? "GET", path: url.pathname });
      if (fake.fault === "500") {
        res.writeHead(500, { "content-type": "text/html" });
        res.end("<html>Unhandled Exception</html>");
      } else if (fake.fault === "stall") {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('{"result": {"data": [');
      }
      return;
    }
    const api = /^\/api\/([a-z.]+)$/.exec(url.pathname);
    if (api && req.method === "POST") {
      const raw = await readBody(req);
      fake.bodies.push(raw);
      if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        fake.requests.push({ method: "POST", path: url.pathname });
        return envelope(res, null, "ERR-CONDUIT-CORE", "Conduit expects a form-encoded body.");
      }
      const form = new URLSearchParams(raw);
      const params = JSON.parse(form.get("params") ?? "{}") as Record<string, unknown>;
      const conduit = params.__conduit__ as { token?: string } | undefined;
      delete params.__conduit__;
      fake.requests.push({ method: "POST", path: url.pathname, params });
      if (conduit?.token !== fake.token) return envelope(res, null, "ERR-INVALID-AUTH", "API token is not valid.");
      if (fake.fault === "conduit-error") {
        return envelope(res, null, "ERR-CONDUIT-CORE", "Query (of class PhabricatorRepositoryQuery) overheated.");
      }
      if (api[1] === "diffusion.commit.search") return commitSearch(res, params);
      if (conduitSearch(api[1] as string, res, params)) return;
      return envelope(res, null, "ERR-CONDUIT-CALL", `Conduit method "${api[1]}" does not exist.`);
    }
    fake.requests.push({ method: req.method ?? "GET", path: url.pathname });
    // A repository's page: 200 for a known callsign, 404 otherwise (DiffusionController). That HEAD is
    // answered as GET without the body is PHP's and the web server's behaviour; not confirmed against
    // Mozilla's instance.
    const repoPage = /^\/diffusion\/([A-Z][A-Z0-9]*)\/$/.exec(url.pathname);
    if (repoPage && (req.method === "HEAD" || req.method === "GET")) {
      const found = repositories.has(repoPage[1] as string);
      res.writeHead(found ? 200 : 404, { "content-type": "text/html; charset=UTF-8" });
      res.end(req.method === "GET" ? "<html>repository</html>" : undefined);
      return;
    }
    const commit = /^\/r([A-Z][A-Z0-9]*?)([0-9a-f]{40})$/.exec(url.pathname);
    if (commit && (req.method === "HEAD" || req.method === "GET")) {
      const [, callsign, node] = commit as unknown as [string, string, string];
      const found = mirrors.get(callsign)?.has(node) ?? false;
      res.writeHead(found ? 200 : 404, { "content-type": "text/html; charset=UTF-8" });
      res.end(req.method === "GET" ? (found ? "<html>commit</html>" : "<html>404</html>") : undefined);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }

  const server = await listenLocal(handle);
  fake.url = server.url;
  fake.close = server.close;
  return fake;
}
