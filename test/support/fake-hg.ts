// A local stand-in for hg.mozilla.org: json-pushes (version 2, with full=1, tipsonly=1 and the
// id and date bounds) and json-rev, in the shapes of wire-formats §2, over real HTTP.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./local-server.ts";

export interface FakePush {
  pushId: number;
  date: number;
  user: string;
  changesets: string[];
  /** Author and description of each changeset, for full=1; a fixture's defaults otherwise. */
  details?: Array<{ author: string; desc: string; files?: string[] }>;
}

/** Mercurial's "<unix seconds> <offset>" date form, the one the service sends. */
function hgDate(value: string | null): number | undefined {
  const match = value === null ? null : /^(\d+) (-?\d+)$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/**
 * How the fake misbehaves: an HTTP 500, never answering, headers and half a body then silence
 * (`stall`), or a whole response whose JSON is cut short (`truncate`).
 */
export type Fault = "none" | "500" | "hang" | "stall" | "truncate";

export interface FakeHg {
  url: string;
  addPush(repository: string, push: FakePush): void;
  requests: string[];
  latencyMs: number;
  fault: Fault;
  /** Requests whose path matches never get an answer, whatever `fault` says. */
  hangPaths: RegExp | undefined;
  close(): Promise<void>;
}

function replyJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeHg(options: { latencyMs?: number } = {}): Promise<FakeHg> {
  const repos = new Map<string, Map<number, FakePush>>();
  const fake: FakeHg = {
    url: "",
    requests: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    hangPaths: undefined,
    addPush(repository, push) {
      let pushes = repos.get(repository);
      if (!pushes) {
        pushes = new Map();
        repos.set(repository, pushes);
      }
      pushes.set(push.pushId, push);
    },
    close: () => Promise.resolve(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    if (fake.hangPaths?.test(url.pathname)) return;
    if (fake.fault === "500") return replyJson(res, 500, { error: "internal error" });
    if (fake.fault === "hang") return; // never answers
    if (fake.fault === "stall") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"lastpushid": 1, "pushes": {');
      return; // the rest never comes
    }
    const pushesMatch = /^\/(.+)\/json-pushes$/.exec(url.pathname);
    if (pushesMatch) {
      const pushes = repos.get(pushesMatch[1] as string) ?? new Map<number, FakePush>();
      if (url.searchParams.get("version") !== "2") return replyJson(res, 500, { error: "version parameter must be 1 or 2" });
      const params = url.searchParams;
      // Date bounds come before id bounds, and both date bounds are exclusive (wire-formats §2.1).
      const startDate = hgDate(params.get("startdate"));
      const endDate = hgDate(params.get("enddate"));
      if ((params.has("startdate") && startDate === undefined) || (params.has("enddate") && endDate === undefined)) {
        return replyJson(res, 500, { error: "invalid date" });
      }
      const start = Number(params.get("startID") ?? 0);
      const end = Number(params.get("endID") ?? Number.MAX_SAFE_INTEGER);
      const inRange = (push: FakePush) =>
        (startDate !== undefined ? push.date > startDate : push.pushId > start) && (endDate !== undefined ? push.date < endDate : push.pushId <= end);
      const full = params.has("full");
      const tipsOnly = params.get("tipsonly") === "1";
      const body: { lastpushid: number; pushes: Record<string, unknown> } = {
        lastpushid: Math.max(0, ...pushes.keys()),
        pushes: {},
      };
      for (const push of pushes.values()) {
        if (!inRange(push)) continue;
        const indexes = push.changesets.map((_, i) => i).slice(tipsOnly ? -1 : 0);
        body.pushes[String(push.pushId)] = {
          changesets: indexes.map((i) => {
            const node = push.changesets[i] as string;
            if (!full) return node;
            const detail = push.details?.[i] ?? { author: "Fixture <fixture@example.com>", desc: `fixture ${i}` };
            return {
              author: detail.author,
              branch: "default",
              desc: detail.desc,
              files: detail.files ?? ["README"],
              git_node: null,
              git_parents: [null],
              node,
              parents: [i === 0 ? "0".repeat(40) : push.changesets[i - 1]],
              tags: [],
            };
          }),
          date: push.date,
          git_changesets: indexes.map(() => null),
          user: push.user,
        };
      }
      if (fake.fault === "truncate") {
        const text = JSON.stringify(body);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      return replyJson(res, 200, body);
    }
    const revMatch = /^\/(.+)\/json-rev\/([0-9a-f]+)$/.exec(url.pathname);
    if (revMatch) {
      const [, repo, rev] = revMatch as unknown as [string, string, string];
      for (const push of repos.get(repo)?.values() ?? []) {
        const node = push.changesets.find((n) => n.startsWith(rev));
        if (node) {
          return replyJson(res, 200, {
            node,
            date: [push.date, 0],
            desc: "fixture",
            backedoutby: "",
            branch: "default",
            bookmarks: [],
            tags: [],
            user: push.user,
            parents: [],
            children: [],
            files: [],
            phase: "public",
            pushid: push.pushId,
            pushdate: [push.date, 0],
            pushuser: push.user,
            landingsystem: null,
            git_commit: null,
          });
        }
      }
      return replyJson(res, 404, { error: `unknown revision '${rev}'` });
    }
    replyJson(res, 404, { error: "not found" });
  }

  const server = await listenLocal(handle);
  fake.url = server.url;
  fake.close = server.close;
  return fake;
}
