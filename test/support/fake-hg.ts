// A local stand-in for hg.mozilla.org over real HTTP: Mercurial 6.3.2's hgweb serving several
// repositories (`hg serve --web-conf`) with version-control-tools' `pushlog` and `hgmo` extensions
// (github.com/mozilla/version-control-tools @1a0a363b). test/fake-hg-replay.test.ts replays every
// answer recorded from that software (../shared/real-data/served/hgweb-vct) against it.
// Each behaviour is in test/support/fake-hg/, beside the name of the real code it follows:
// - hgwebdir.ts: which repository a path is (a path never declared is hgweb's 404 HTML page for every
//   command), the index; hgweb.ts: the command, its style, how its errors are answered;
// - pushlog-query.ts: json-pushes' bounds, filters, paging and errors; pushes-answer.ts: its body;
// - json-rev.ts, unidiff.ts: json-rev/<rev>; raw-file.ts: raw-file/<rev>/<path>; lookup.ts: revisions;
// - changelog.ts, repository.ts: the changesets, pushes, strips, obsolescence, manifests.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Changelog } from "./fake-hg/changelog.ts";
import { answerHgwebdir } from "./fake-hg/hgwebdir.ts";
import { NO_DETAILS, type ChangesetDetails } from "./fake-hg/repository.ts";
import { uncaught, type HgResponse } from "./fake-hg/responses.ts";
import { listenLocal } from "./local-server.ts";

export { pushlogDate } from "./fake-hg/dates.ts";
export type { ChangesetDetails } from "./fake-hg/repository.ts";

export interface FakePush {
  pushId: number;
  date: number;
  user: string;
  /** Its changesets' nodes, oldest first; one already in the repository is not added twice. */
  changesets: string[];
  /** The Git commit of each changeset (git-hg-sync's `git_commit` extra), null where there is none. */
  gitChangesets?: Array<string | null>;
  /** Author, description, files, parents... of each changeset; each field has a default. */
  details?: ChangesetDetails[];
}

/** A changeset that reached the repository without a push (pulled): the pushlog does not know it. */
export interface FakePulledChangeset extends ChangesetDetails {
  node: string;
}

/**
 * How the fake misbehaves: an uncaught exception's 500, never answering, headers and half a body then
 * silence (`stall`), or a whole json-pushes answer whose JSON is cut short (`truncate`).
 */
export type Fault = "none" | "500" | "hang" | "stall" | "truncate";

export interface FakeHg {
  url: string;
  /** Declares a repository (empty until pushes arrive): a path never declared is hgweb's 404 page. */
  addRepository(path: string): void;
  /** A push (declaring its repository); with `replicated: false` it waits for replicate(), and so do the ones after it. */
  addPush(repository: string, push: FakePush, options?: { replicated?: boolean }): void;
  addPulledChangeset(path: string, changeset: FakePulledChangeset): void;
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

export interface FakeHgOptions {
  latencyMs?: number;
  /** The server's clock, Unix seconds: json-pushes reads some dates relative to it. */
  now?: () => number;
  /** `web.contact` / `ui.username`, shown in the index. */
  contact?: string;
}

export async function startFakeHg(options: FakeHgOptions = {}): Promise<FakeHg> {
  const now = options.now ?? (() => Date.now() / 1000);
  const repositories = new Map<string, Changelog>();
  const declare = (path: string): Changelog => {
    const log = repositories.get(path) ?? new Changelog(now());
    repositories.set(path, log);
    return log;
  };
  const fake: FakeHg = {
    url: "",
    requests: [],
    latencyMs: options.latencyMs ?? 0,
    fault: "none",
    hangPaths: undefined,
    addRepository: (path) => void declare(path),
    addPush(repository, push, opts = {}) {
      const log = declare(repository);
      push.changesets.forEach((node, i) =>
        log.add(node, push.details?.[i] ?? NO_DETAILS, { date: push.date, gitCommit: push.gitChangesets?.[i] ?? null }, now()),
      );
      log.addPush({ id: push.pushId, user: push.user, date: push.date, nodes: push.changesets, replicated: opts.replicated ?? true }, now());
    },
    addPulledChangeset(path, { node, ...details }) {
      declare(path).add(node, details, { date: Math.floor(now()) }, now());
    },
    replicate(repository, pushId) {
      const push = repositories.get(repository)?.pushes.get(pushId);
      if (push) push.replicated = true;
    },
    strip(repository, pushId) {
      const log = repositories.get(repository);
      const push = log?.pushes.get(pushId);
      if (log && push) log.strip(push.nodes, now());
    },
    close: () => Promise.resolve(),
  };

  const server = await listenLocal((req, res) => handle(fake, { repositories, contact: options.contact ?? "", now }, req, res));
  fake.url = server.url;
  fake.close = server.close;
  return fake;
}

async function handle(
  fake: FakeHg,
  server: { repositories: ReadonlyMap<string, Changelog>; contact: string; now: () => number },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
  if (fake.latencyMs > 0) await sleep(fake.latencyMs);
  if (fake.hangPaths?.test(`${url.pathname}${url.search}`)) return;
  if (fake.fault === "500") return send(res, uncaught());
  if (fake.fault === "hang") return; // never answers
  if (fake.fault === "stall") {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"lastpushid": 1, "pushes": {');
    return; // the rest never comes
  }
  // hgweb/server.py: PATH_INFO is the unquoted path.
  const path = unquote(url.pathname);
  const answer = answerHgwebdir({ ...server, now: server.now() }, path, url.searchParams);
  if (fake.fault === "truncate" && answer.status === 200 && path.includes("/json-pushes"))
    answer.body = answer.body.slice(0, Math.floor(answer.body.length / 2));
  send(res, answer);
}

function send(res: ServerResponse, answer: HgResponse): void {
  res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/** urllib's `unquote`: percent-escapes decoded, a malformed one left as it is. */
function unquote(path: string): string {
  return path.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
