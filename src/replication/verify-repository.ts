// The replication check's I/O for one repository: read its pushes' ranges of the pushlog and ask its
// mirror for their commits, range by range, as long as the ordered walk needs more (walkNeedsMore).
// What a range means is decided by the pure functions of replication-state.ts and push-walk.ts.
import type { Repository } from "../config/config.ts";
import type { Mirror } from "../mirror/mirror.ts";
import type { PushlogClient, PushlogRange } from "../pushlog/pushlog.ts";
import type { Push } from "../hgpush/hgpush-message.ts";
import { timedPush } from "../core/push-time.ts";
import { CheckStoppedError, checkFailure, type CheckFailure } from "../run/check-failure.ts";
import { listedForWalk } from "./mirror-commits.ts";
import { pushIdRanges } from "../pushlog/push-id-ranges.ts";
import { walkPushes, walkStop, type PushCommits, type StopReason } from "./push-walk.ts";
import { readSlice, walkNeedsMore, type RepositoryWatch, type VerificationOutcome } from "./replication-state.ts";

/** Pushes per json-pushes request: 200 pushes of a few commits each is a response of tens of KB. */
export const PUSHLOG_SLICE = 200;

export type Verification = VerificationOutcome & {
  stoppedAt?: { push: Push; reason: StopReason };
  /** Where the walk stopped for a commit the mirror lacks: the push, its first missing node and how many of its commits are missing. */
  missing?: { pushId: number; node: string; count: number };
  /** Per push id: changesets the pushlog gave no Git hash (repositories checked as Git). */
  nullGit?: ReadonlyMap<number, number>;
  failure?: CheckFailure;
};

export const NOTHING_TO_VERIFY: Verification = { pushes: [], verified: [], givenUp: [], highestListed: undefined, waiting: [] };

export interface VerifyPorts {
  pushlog: PushlogClient;
  mirror: Mirror;
  debug(fields: object, msg: string): void;
  now(): number;
}

/** What the ranges read so far say: each push's commits and time, and each commit's place in the mirror. */
interface Evidence {
  commits: Map<number, PushCommits>;
  mirrored: Map<string, boolean>;
  pushTimes: Map<number, number>;
  waiting: number[];
  nullGit: Map<number, number>;
  highestListed: number | undefined;
}

/** One range: its slice of the pushlog, read against the carried absences, then the mirror asked for its new commits. */
async function checkRange(
  repo: Repository,
  watch: RepositoryWatch,
  range: PushlogRange,
  fetched: Awaited<ReturnType<PushlogClient["fetchRange"]>>,
  evidence: Evidence,
  ports: VerifyPorts,
  signal: AbortSignal | undefined,
): Promise<void> {
  const vcs = repo.mirror.vcs ?? "hg";
  const pushes = new Map(
    [...fetched.pushes].map(([id, push]) => {
      const { listed, nullGit } = listedForWalk(push, vcs);
      if (nullGit > 0) evidence.nullGit.set(id, nullGit);
      return [id, listed] as const;
    }),
  );
  const reading = readSlice(watch, range, { lastPushId: fetched.lastPushId, pushes });
  for (const [id, c] of reading.commits) evidence.commits.set(id, c);
  for (const [id, t] of reading.pushTimes) evidence.pushTimes.set(id, t);
  evidence.waiting.push(...reading.waiting);
  if (reading.highestListed !== undefined) evidence.highestListed = Math.max(evidence.highestListed ?? 0, reading.highestListed);
  const unique = [...new Set([...reading.commits.values()].flatMap((c) => c.changesets ?? []))].filter((n) => !evidence.mirrored.has(n));
  const have = await ports.mirror.has(unique, signal);
  for (const node of unique) evidence.mirrored.set(node, have.has(node));
  ports.debug({ repository: repo.path, range, commits: unique.length, mirrored: have.size }, "checked a range of pushes");
}

/** Reads the pushlog and the mirror for `pushes`, in push order, until the walk can go no further. */
export async function verifyRepository(
  repo: Repository,
  watch: RepositoryWatch,
  pushes: readonly Push[],
  ports: VerifyPorts,
  signal?: AbortSignal,
): Promise<Verification> {
  const evidence: Evidence = { commits: new Map(), mirrored: new Map(), pushTimes: new Map(), waiting: [], nullGit: new Map(), highestListed: undefined };
  const ranges = pushIdRanges(
    pushes.map((p) => p.pushId),
    PUSHLOG_SLICE,
  );
  const fetchRange = (index: number) => {
    const range = ranges[index];
    if (!range) return undefined;
    const pending = ports.pushlog.fetchRange(repo.path, range, signal);
    // Read later, or never when the walk stops first; either way its failure is not unhandled.
    pending.catch(() => undefined);
    return pending;
  };
  let failure: CheckFailure | undefined;
  let next = fetchRange(0);
  // The walk so far stopped here: the next range resumes it (walkStop).
  let resumeAt = 0;
  for (const [index, range] of ranges.entries()) {
    if (signal?.aborted) {
      failure = checkFailure("pushlog", "hgmo", new CheckStoppedError());
      break;
    }
    let fetched;
    try {
      fetched = await (next as ReturnType<PushlogClient["fetchRange"]>);
    } catch (err) {
      failure = checkFailure("pushlog", "hgmo", err, { signal });
      break;
    }
    // The next slice of the pushlog comes in while the mirror is asked about this one.
    next = fetchRange(index + 1);
    try {
      await checkRange(repo, watch, range, fetched, evidence, ports, signal);
    } catch (err) {
      failure = checkFailure("mirror", "phabricator", err, { signal });
      break;
    }
    const stop = walkStop(
      pushes,
      (p) => evidence.commits.get(p.pushId),
      (n) => evidence.mirrored.get(n),
      resumeAt,
    );
    if (!walkNeedsMore(stop)) break;
    resumeAt = stop?.index ?? pushes.length;
  }
  return verification(pushes, evidence, failure, Math.floor(ports.now() / 1000));
}

/** The walk over what the ranges said, and where and why it stopped. */
function verification(pushes: readonly Push[], evidence: Evidence, failure: CheckFailure | undefined, nowS: number): Verification {
  const timed = pushes.map((p) => timedPush(p, evidence.pushTimes.get(p.pushId), nowS));
  const walk = walkPushes(
    timed,
    (p) => evidence.commits.get(p.pushId),
    (n) => evidence.mirrored.get(n),
  );
  const stopped = walk.stoppedAt;
  const missing =
    stopped?.reason.kind === "missing"
      ? {
          pushId: stopped.push.pushId,
          node: stopped.reason.node,
          count: (evidence.commits.get(stopped.push.pushId)?.changesets ?? []).filter((n) => evidence.mirrored.get(n) === false).length,
        }
      : undefined;
  return {
    pushes: timed,
    ...walk,
    nullGit: evidence.nullGit,
    ...(missing === undefined ? {} : { missing }),
    highestListed: evidence.highestListed,
    waiting: evidence.waiting,
    ...(failure === undefined ? {} : { failure }),
  };
}
