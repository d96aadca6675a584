// A local stand-in for hg.mozilla.org over real HTTP. Each behaviour comes from version-control-tools'
// pushlog and hgweb code (github.com/mozilla/version-control-tools @1a0a363b), named beside it:
// - json-pushes (hgext/pushlog/feed.py `pushlog_setup`, `pushes_worker`; tests in
//   hgext/pushlog/tests/test-hgweb-feed.t): the lower bound is the first present of startdate >
//   fromchange > startID (startID exclusive), the upper bound the first present of enddate > tochange >
//   endID (endID inclusive), upper bounds are ignored without a lower bound, which gives the last 10
//   pushes; `do_parse_date` reads only `YYYY-MM-DD[ HH[:MM[:SS]]]` (server local time; this fake's is
//   UTC) and hands anything else to parsedatetime, which reads a UNIX timestamp as *now*; `full` is on
//   whenever the key is present; `tipsonly` only when it is exactly 1; version 1 (the default) is the
//   bare pushes map, version 2 wraps it with `lastpushid`; any other version is HTTP 500
//   `{"error": "version parameter must be 1 or 2"}`.
// - Only replicated pushes are listed and `lastpushid` is the last replicated id
//   (`last_push_id_replicated`); a stripped push is absent though its id is at or below `lastpushid`
//   (hgext/pushlog/tests/test-empty-pushes.t).
// - json-rev (hgext/hgmo, tests hgext/hgmo/tests/test-json-changeset.t): `pushdate` an hgdate pair;
//   an unknown revision is HTTP 404 `{"error": "unknown revision '…'"}` (test-hgweb-feed.t).
// - raw-file/<node>/<path> (Mercurial hgweb `webcommands.rawfile`): the file's bytes; a path not in
//   the changeset's manifest is HTTP 404.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./local-server.ts";

export interface FakePush {
  pushId: number;
  date: number;
  user: string;
  changesets: string[];
  /** The Git commit of each changeset (git-hg-sync), null where there is none; all null when left out. */
  gitChangesets?: Array<string | null>;
  /** Author and description of each changeset, for full=1; a fixture's defaults otherwise. */
  details?: Array<{ author: string; desc: string; files?: string[]; contents?: Record<string, string> }>;
}

/**
 * feed.py's `do_parse_date`: `YYYY-MM-DD[ HH[:MM[:SS]]]` as local time (UTC here); anything else goes
 * to parsedatetime, and a bare or offset UNIX timestamp is read as now.
 */
export function pushlogDate(value: string, nowSeconds: number): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/.exec(value.trim());
  if (!m) return nowSeconds;
  const [y, mo, d, h, mi, se] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, se) / 1000;
}

/**
 * How the fake misbehaves: an HTTP 500, never answering, headers and half a body then silence
 * (`stall`), or a whole response whose JSON is cut short (`truncate`).
 */
export type Fault = "none" | "500" | "hang" | "stall" | "truncate";

export interface FakeHg {
  url: string;
  /** A push; with `replicated: false` it is not listed (nor counted in lastpushid) until replicate(). */
  addPush(repository: string, push: FakePush, options?: { replicated?: boolean }): void;
  replicate(repository: string, pushId: number): void;
  /** `hg strip` of every changeset of a push: it vanishes from json-pushes; lastpushid stays. */
  strip(repository: string, pushId: number): void;
  requests: string[];
  latencyMs: number;
  fault: Fault;
  /** Requests whose path (with its query) matches never get an answer, whatever `fault` says. */
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
  const unreplicated = new Set<string>();
  const stripped = new Set<string>();
  const key = (repository: string, pushId: number) => `${repository}#${pushId}`;
  const fake: FakeHg = {
    url: "",
    requests: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    hangPaths: undefined,
    addPush(repository, push, opts = {}) {
      let pushes = repos.get(repository);
      if (!pushes) {
        pushes = new Map();
        repos.set(repository, pushes);
      }
      pushes.set(push.pushId, push);
      if (opts.replicated === false) unreplicated.add(key(repository, push.pushId));
    },
    replicate(repository, pushId) {
      unreplicated.delete(key(repository, pushId));
    },
    strip(repository, pushId) {
      stripped.add(key(repository, pushId));
    },
    close: () => Promise.resolve(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    if (fake.hangPaths?.test(`${url.pathname}${url.search}`)) return;
    if (fake.fault === "500") return replyJson(res, 500, { error: "internal error" });
    if (fake.fault === "hang") return; // never answers
    if (fake.fault === "stall") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"lastpushid": 1, "pushes": {');
      return; // the rest never comes
    }
    const pushesMatch = /^\/(.+?)\/json-pushes(?:\/(\d+))?$/.exec(url.pathname);
    if (pushesMatch) {
      const repo = pushesMatch[1] as string;
      const params = url.searchParams;
      const version = params.get("version") ?? "1";
      if (version !== "1" && version !== "2") return replyJson(res, 500, { error: "version parameter must be 1 or 2" });
      const replicated = [...(repos.get(repo) ?? new Map<number, FakePush>()).values()]
        .filter((p) => !unreplicated.has(key(repo, p.pushId)))
        .sort((a, b) => a.pushId - b.pushId);
      const lastpushid = Math.max(0, ...replicated.map((p) => p.pushId));
      const listed = replicated.filter((p) => !stripped.has(key(repo, p.pushId)));
      const now = Math.floor(Date.now() / 1000);
      const idOf = (rev: string) => listed.find((p) => p.changesets.some((n) => n.startsWith(rev)))?.pushId;
      for (const bound of ["fromchange", "tochange"]) {
        const rev = params.get(bound);
        if (rev !== null && idOf(rev) === undefined) return replyJson(res, 404, { error: `unknown revision '${rev}'` });
      }
      type Test = (p: FakePush) => boolean;
      let lower: Test | undefined;
      if (params.has("startdate")) {
        const at = pushlogDate(params.get("startdate") as string, now);
        lower = (p) => p.date > at;
      } else if (params.has("fromchange")) {
        const id = idOf(params.get("fromchange") as string) as number;
        lower = (p) => p.pushId > id;
      } else if (params.has("startID")) {
        const id = Number(params.get("startID"));
        lower = (p) => p.pushId > id;
      }
      let upper: Test = () => true;
      if (params.has("enddate")) {
        const at = pushlogDate(params.get("enddate") as string, now);
        upper = (p) => p.date < at;
      } else if (params.has("tochange")) {
        const id = idOf(params.get("tochange") as string) as number;
        upper = (p) => p.pushId <= id;
      } else if (params.has("endID")) {
        const id = Number(params.get("endID"));
        upper = (p) => p.pushId <= id;
      }
      // No lower bound: the upper one is ignored, and the answer is a page of the last 10 pushes.
      const page = Number(pushesMatch[2] ?? 1);
      const chosen = lower ? listed.filter((p) => lower(p) && upper(p)) : listed.slice(-10 * page).slice(0, 10);
      const full = params.has("full");
      const tipsOnly = params.get("tipsonly") === "1";
      const pushes: Record<string, unknown> = {};
      for (const push of chosen) {
        const indexes = push.changesets.map((_, i) => i).slice(tipsOnly ? -1 : 0);
        pushes[String(push.pushId)] = {
          changesets: indexes.map((i) => {
            const node = push.changesets[i] as string;
            if (!full) return node;
            const detail = push.details?.[i] ?? { author: "Fixture <fixture@example.com>", desc: `fixture ${i}` };
            return {
              author: detail.author,
              branch: "default",
              desc: detail.desc,
              files: detail.files ?? ["README"],
              git_node: push.gitChangesets?.[i] ?? null,
              git_parents: [i === 0 ? null : (push.gitChangesets?.[i - 1] ?? null)],
              node,
              parents: [i === 0 ? "0".repeat(40) : push.changesets[i - 1]],
              tags: [],
            };
          }),
          date: push.date,
          // One per visible changeset, and absent when none is (feed.py; json-pushes-v2-hidden-changesets.vct-test.json).
          ...(indexes.length === 0 ? {} : { git_changesets: indexes.map((i) => push.gitChangesets?.[i] ?? null) }),
          user: push.user,
        };
      }
      const body = version === "2" ? { lastpushid, pushes } : pushes;
      if (fake.fault === "truncate") {
        const text = JSON.stringify(body);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      return replyJson(res, 200, body);
    }
    const rawFile = /^\/(.+?)\/raw-file\/([0-9a-f]{12,40})\/(.+)$/.exec(url.pathname);
    if (rawFile) {
      const [, repo, rev, path] = rawFile as unknown as [string, string, string, string];
      for (const push of repos.get(repo)?.values() ?? []) {
        const index = push.changesets.findIndex((n) => n.startsWith(rev));
        const content = index < 0 ? undefined : push.details?.[index]?.contents?.[path];
        if (content !== undefined) {
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(content) });
          res.end(content);
          return;
        }
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end(`${path}@${rev.slice(0, 12)}: not found in manifest\n`);
      return;
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
