// A local stand-in for Phabricator: Conduit's diffusion.commit.search (form-encoded request, the
// {result, error_code, error_info} envelope, the 100-per-page limit, cursor paging) and the commit
// pages that answer HEAD /r<CALLSIGN><node>, as wire-formats §4 describes them.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./local-server.ts";
import type { Fault as HttpFault } from "./fake-hg.ts";

/** The HTTP faults of the hg fake, plus a Conduit error envelope (HTTP 200, error_code set). */
export type Fault = Exclude<HttpFault, "truncate"> | "conduit-error";

export interface FakePhabricator {
  url: string;
  token: string;
  /** Marks commits as present in the mirror of `callsign`. */
  mirror(callsign: string, nodes: readonly string[]): void;
  requests: Array<{ method: string; path: string; params?: Record<string, unknown> }>;
  /** Every raw form body Conduit received, to check what travelled in them. */
  bodies: string[];
  latencyMs: number;
  fault: Fault;
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

export async function startFakePhabricator(options: { token?: string; latencyMs?: number } = {}): Promise<FakePhabricator> {
  const mirrors = new Map<string, Set<string>>();
  let nextId = 1000;
  const ids = new Map<string, number>();
  const fake: FakePhabricator = {
    url: "",
    token: options.token ?? "api-fakefakefakefakefakefakefake",
    requests: [],
    bodies: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    mirror(callsign, nodes) {
      let set = mirrors.get(callsign);
      if (!set) {
        set = new Set();
        mirrors.set(callsign, set);
      }
      for (const node of nodes) {
        set.add(node);
        if (!ids.has(node)) ids.set(node, nextId++);
      }
    },
    close: () => Promise.resolve(),
  };

  function commitSearch(res: ServerResponse, params: Record<string, unknown>): void {
    const constraints = (params.constraints ?? {}) as { repositories?: string[]; identifiers?: string[] };
    const limit = typeof params.limit === "number" ? params.limit : 100;
    if (limit > 100) {
      return envelope(res, null, "ERR-CONDUIT-CORE", `Maximum page size for Conduit API method calls is 100, but this call specified ${limit}.`);
    }
    for (const key of Object.keys(constraints)) {
      if (!["ids", "phids", "repositories", "identifiers"].includes(key)) {
        return envelope(res, null, "ERR-CONDUIT-CORE", `Constraint "${key}" is not a valid constraint for this query.`);
      }
    }
    const repos = (constraints.repositories ?? []).map((r) => r.replace(/^r/, ""));
    const wanted = (constraints.identifiers ?? []).filter((i) => i.length >= 7);
    const rows: Array<{ id: number; node: string; callsign: string }> = [];
    for (const [callsign, nodes] of mirrors) {
      if (repos.length > 0 && !repos.includes(callsign)) continue;
      for (const identifier of wanted) {
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
          repositoryPHID: `PHID-REPO-${r.callsign.toLowerCase()}`,
          author: { name: "Fixture", email: "fixture@example.com", raw: "Fixture <fixture@example.com>", epoch: 1714564800, identityPHID: "PHID-RIDT-aaaaaaaaaaaaaaaaaaaa", userPHID: null },
          committer: { name: "Fixture", email: "fixture@example.com", raw: "Fixture <fixture@example.com>", epoch: 1714564800, identityPHID: "PHID-RIDT-aaaaaaaaaaaaaaaaaaaa", userPHID: null },
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
      return envelope(res, null, "ERR-CONDUIT-CALL", `Conduit method "${api[1]}" does not exist.`);
    }
    fake.requests.push({ method: req.method ?? "GET", path: url.pathname });
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
