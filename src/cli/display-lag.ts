// `display-lag [NODE...]`: for each changeset, whether the mirror has it and, if not, for how long it
// has been missing. Without NODE: a read-only check that shows the state of the queue head.
import { parseArgs } from "node:util";
import { secretsOf } from "../config/config.ts";
import { createLogger } from "../app/logger.ts";
import { namedPushIds } from "../hgpush/hgpush-message.ts";
import { NODE_PATTERN } from "../core/json-shape.ts";
import { buildApp, type App } from "../app/build-app.ts";
import { replicationKind } from "../replication/kind.ts";
import type { CheckInstance } from "../run/check-kind.ts";
import { createPushlogClient } from "../pushlog/pushlog.ts";
import { createConduitClient } from "../phabricator/phabricator.ts";
import { createReviewLookup } from "../phabricator/review-lookup.ts";
import { formatReviewStatus, lookupReviewStatus, parseDiffRef } from "../review/review-status.ts";
import { versionInfo } from "../app/version.ts";
import { humanSuffix } from "../core/duration.ts";
import { type Io, versionFlags } from "./io.ts";
import { loadConfig } from "./load-config.ts";
import type { Mirror } from "../mirror/mirror.ts";
import { formatGitCommitStatus, lookupGitCommit } from "../git-sync/git-commit-status.ts";

const USAGE = `Usage: display-lag [--debug] [NODE | D123 | PHID-DIFF-...]...
       display-lag --rejected
       display-lag -h | --help | -V | -v | --version

For each hg changeset id (12 to 40 hex digits): which monitored repository has it, whether the
Phabricator mirror has it, and if not, for how long it has been missing (since its push).
A 40-hex id no monitored repository knows as an hg changeset is read as a Git commit: whether it
has landed, the hg push it was synced to (GIT_BRANCHES' and :git repositories' pushlogs, their last
1,000 pushes), and whether the Git mirror has it.
For each diff (a revision's D-number, for its active diff, or a PHID-DIFF): where it stands in the
code-review pipeline: created, pushed to Try, result, and the durations (needs PHABRICATOR_API_TOKEN).
Without arguments: the state of the queue head, read-only (nothing is acked or declared).
With --rejected: the messages kept in the rejected queue (reason, repository, push ids, when they
were set aside), read-only: nothing is taken off it.

Exit status:
  0  every answer was given (a changeset missing from the mirror is an answer)
  1  an upstream failure: Pulse, hg.mozilla.org or Phabricator did not answer as expected
     (without arguments: the check of the queue head failed)
  2  bad configuration, or a bad command line
`;

async function describeNode(app: App, node: string, nowMs: number): Promise<string[]> {
  const pushlog = createPushlogClient(app.hg);
  const lines: string[] = [];
  for (const repo of app.config.repositories) {
    const changeset = await pushlog.fetchRevision(repo.path, node);
    if (!changeset) continue;
    const mirror = app.mirrors.get(repo.path) as Mirror;
    const have = (await mirror.has([changeset.node])).has(changeset.node);
    lines.push(`${changeset.node} ${repo.path} ${mirror.name}: ${describeMirrored(have, changeset.push, nowMs)}`);
  }
  if (lines.length > 0) return lines;
  // A full 40-hex id hg does not know may be a Git commit: where has it got to since Lando landed it?
  if (NODE_PATTERN.test(node) && (app.config.gitSync !== undefined || app.config.repositories.some((r) => r.mirror.vcs === "git"))) {
    const gitRepositories = app.config.repositories.filter((r) => r.mirror.vcs === "git").map((r) => r.path);
    const repositories = [...new Set([...(app.config.gitSync?.branches.map((b) => b.repository) ?? []), ...gitRepositories])];
    const status = await lookupGitCommit(node, {
      pushlog,
      repositories,
      gitMirrors: new Map(gitRepositories.map((path) => [path, app.mirrors.get(path) as Mirror])),
    });
    return formatGitCommitStatus(status, nowMs);
  }
  return [`${node}: not found in any monitored repository`];
}

/** Whether the mirror has a changeset, and since when it has been missing when its push is known. */
function describeMirrored(have: boolean, push: { pushId: number; pushTime: number } | undefined, nowMs: number): string {
  // A changeset older than the pushlog (it arrived by pull) has no push, so no time to count from.
  const pushed = push === undefined ? "no push: older than the pushlog" : `push ${push.pushId}`;
  if (have) return `in the mirror (${pushed}); replication lag (seconds): 0`;
  if (push === undefined) return `NOT in the mirror (${pushed}); replication lag (seconds): unknown`;
  const age = Math.max(0, Math.floor(nowMs / 1000) - push.pushTime);
  return `NOT in the mirror (push ${push.pushId}, ${new Date(push.pushTime * 1000).toISOString()}); replication lag (seconds): ${age}${humanSuffix(age)}`;
}

/** Runs `produce`, printing its lines as they come (0), or its failure (1); closes the app either way. */
async function answer(app: App, io: Io, produce: (print: (lines: readonly string[]) => void) => Promise<void>): Promise<number> {
  try {
    await produce((lines) => {
      for (const line of lines) io.stdout(`${line}\n`);
    });
    return 0;
  } catch (error) {
    io.stderr(`display-lag: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await app.close();
  }
}

/** What the rejected queue keeps, read without taking anything off it. */
async function rejectedLines(app: App): Promise<string[]> {
  const queue = app.config.pulse.rejectedQueue;
  const kept = await app.pulse.peekRejected();
  if (kept === undefined) return [`${queue}: does not exist yet (nothing has been set aside)`];
  return [
    `${queue}: ${kept.length} message${kept.length === 1 ? "" : "s"} kept`,
    ...kept.map((m) => {
      const when = m.at === undefined ? "unknown time" : new Date(m.at).toISOString().replace(".000Z", "Z");
      const ids = namedPushIds(m.body);
      return `${when} ${m.reason} ${m.routingKey || "(no routing key)"} ${ids.length > 0 ? `push ${ids.join(",")}` : "no push id"} (${m.body.length} bytes)`;
    }),
  ];
}

const OPTIONS = {
  debug: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "V", default: false },
  rejected: { type: "boolean", default: false },
} as const;
type Parsed = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;

/** The flags and what to look up, or the exit code of a command line that ends before the configuration is read. */
function readArguments(argv: string[], io: Io): Parsed | number {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: versionFlags(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`display-lag: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (parsed.values.version) {
    const version = versionInfo(io.env);
    io.stdout(`display-lag ${version.version} (${version.commit})\n`);
    return 0;
  }
  const bad = parsed.positionals.filter((n) => !/^[0-9a-f]{12,40}$/.test(n) && !parseDiffRef(n));
  if (bad.length > 0) {
    io.stderr(`display-lag: not a changeset id, D-number or PHID-DIFF: ${bad.join(" ")}\n`);
    return 2;
  }
  return parsed;
}

export async function displayLag(argv: string[], io: Io): Promise<number> {
  const parsed = readArguments(argv, io);
  if (typeof parsed === "number") return parsed;
  const config = loadConfig(io);
  if (config === 2) return 2;
  const token = config.phabricatorApiToken;
  if (!token && parsed.positionals.some((p) => parseDiffRef(p))) {
    io.stderr("configuration error: PHABRICATOR_API_TOKEN: not set; a diff can only be looked up through Conduit\n");
    return 2;
  }
  const log = createLogger({
    level: parsed.values.debug ? "debug" : "warn",
    pretty: io.isTTY,
    toStderr: true,
    secrets: secretsOf(config),
    ...(io.logDestination ? { destination: io.logDestination } : {}),
  });
  // The replication check only: the queue head is what this command shows, and nothing is declared.
  const app = buildApp({
    config,
    log,
    version: versionInfo(io.env),
    readOnly: true,
    kinds: [replicationKind],
    ...(io.drainIdleMs === undefined ? {} : { drainIdleMs: io.drainIdleMs }),
  });

  if (parsed.values.rejected) return answer(app, io, async (print) => print(await rejectedLines(app)));
  if (parsed.positionals.length === 0) {
    try {
      const report = await (app.checks[0] as CheckInstance).run(new AbortController().signal);
      for (const line of report.lines) io.stdout(`${line}\n`);
      return report.ok ? 0 : 1;
    } finally {
      await app.close();
    }
  }
  const now = Date.now();
  const pushlog = createPushlogClient(app.hg);
  return answer(app, io, async (print) => {
    for (const arg of parsed.positionals) {
      print(
        parseDiffRef(arg) && token
          ? formatReviewStatus(
              await lookupReviewStatus(arg, {
                reviews: createReviewLookup(createConduitClient(app.phabricator, token, secretsOf(config))),
                pushlog,
                tryRepository: config.codeReviewTryRepository,
                nowMs: now,
              }),
              now,
            )
          : await describeNode(app, arg, now),
      );
    }
  });
}
