// The code-review check's first step of I/O: the Try pushes its messages announce (and any whose
// message was lost: a hole in the push ids, or everything newer after the queue was lost), read whole
// from the Try pushlog, the code-review bot's among them, and each one's build target from the
// try_task_config.json of its commit. What to make of them is decide.ts's.
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { mapLimited } from "../upstream/upstream.ts";
import { idsAfter, maxOf, missingPushIds } from "../hgpush/pushlog-gaps.ts";
import { pushIdRanges } from "../pushlog/push-id-ranges.ts";
import { isUnixTime } from "../core/push-time.ts";
import { TRY_TASK_CONFIG, findReviewCommit, targetOfTryTaskConfig } from "./review-commit.ts";
import type { ReviewState } from "./state.ts";

/** Try pushes per full=1 request: people's pushes can carry hundreds of changesets each. */
export const TRY_SLICE = 50;
/** Push ids missing between two messages that are looked up in the pushlog, at most, per run. */
const MAX_GAP = 1000;
/** try_task_config.json files read at once. */
const PARALLEL_FILES = 4;

/** A code-review Try push: its diff, its revision when the commit names one, its bot target once read. */
export interface FoundPush {
  diffPHID: string;
  revisionId?: number;
  targetPHID?: string;
  push: { pushId: number; pushTime: number; node: string };
}

export interface TryPushesRead {
  /** Push ids the Try pushlog listed, of those announced or searched for. */
  listed: ReadonlySet<number>;
  lastPushId: number;
  /** Of `listed`, those no message announced (found in a hole, or after a lost queue). */
  gapFound: number;
  /** The code-review bot's pushes, with their targets read where the bot's file names one. */
  bot: FoundPush[];
  /** People's own Try pushes (not measured), and bot pushes with a date no push can have. */
  others: number;
  impossible: Array<{ pushId: number; date: number }>;
}

export interface TryPorts {
  tryRepository: string;
  pushlog: PushlogClient;
}

type FullPushes = Iterable<{ pushId: number; pushTime: number; changesets: Parameters<typeof findReviewCommit>[0] }>;

/** The code-review pushes among whole Try pushes, and the bot's ones with an impossible date (push-time.ts). */
export function codeReviewPushes(pushes: FullPushes): { found: FoundPush[]; impossible: Array<{ pushId: number; date: number }> } {
  const found: FoundPush[] = [];
  const impossible: Array<{ pushId: number; date: number }> = [];
  for (const push of pushes) {
    const commit = findReviewCommit(push.changesets);
    if (!commit) continue;
    if (!isUnixTime(push.pushTime)) {
      impossible.push({ pushId: push.pushId, date: push.pushTime });
      continue;
    }
    found.push({
      diffPHID: commit.diffPHID,
      ...(commit.revisionId === undefined ? {} : { revisionId: commit.revisionId }),
      push: { pushId: push.pushId, pushTime: push.pushTime, node: commit.node },
    });
  }
  return { found, impossible };
}

/** The bot's target of each code-review Try push, from the try_task_config.json of its commit. */
export async function withTargets(pushes: readonly FoundPush[], ports: TryPorts, signal?: AbortSignal): Promise<FoundPush[]> {
  const out: FoundPush[] = [];
  await mapLimited(pushes, PARALLEL_FILES, async (found) => {
    const text = await ports.pushlog.fetchRawFile(ports.tryRepository, found.push.node, TRY_TASK_CONFIG, signal);
    const targetPHID = text === undefined ? undefined : targetOfTryTaskConfig(text);
    out.push(targetPHID === undefined ? found : { ...found, targetPHID });
  });
  return out.sort((a, b) => a.push.pushId - b.push.pushId);
}

/** Reads the Try pushes `announced` by the messages, and those whose messages were lost. */
export async function readTryPushes(
  announced: readonly number[],
  queueLost: boolean,
  state: ReviewState,
  ports: TryPorts,
  signal?: AbortSignal,
): Promise<TryPushesRead> {
  const { lastSeenPushId } = state;
  // A hole in the push ids is a Try push whose message was lost (a deleted queue, a restart while it
  // was unbound): the pushlog has it all the same. A lost queue may also have held pushes newer than
  // any still announced: everything up to the pushlog's last push id is read.
  const newest = maxOf(announced, lastSeenPushId ?? 0);
  const tail = queueLost && lastSeenPushId !== undefined ? idsAfter(newest, await ports.pushlog.lastPushId(ports.tryRepository, signal)) : [];
  const gaps = lastSeenPushId === undefined ? [] : [...missingPushIds(lastSeenPushId, announced), ...tail].slice(-MAX_GAP);
  const listed = new Set<number>();
  let lastPushId = 0;
  const bot: FoundPush[] = [];
  const impossible: Array<{ pushId: number; date: number }> = [];
  let others = 0;
  for (const range of pushIdRanges(
    [...new Set([...announced, ...gaps])].sort((a, b) => a - b),
    TRY_SLICE,
  )) {
    const slice = await ports.pushlog.fetchFullRange(ports.tryRepository, range, signal);
    lastPushId = Math.max(lastPushId, slice.lastPushId);
    for (const push of slice.pushes.values()) listed.add(push.pushId);
    const read = codeReviewPushes(slice.pushes.values());
    bot.push(...read.found);
    impossible.push(...read.impossible);
    others += slice.pushes.size - read.found.length;
  }
  // The bot's target is read once per diff: not for a diff finished or already pushed.
  const fresh = bot.filter((f) => !state.book.done.has(f.diffPHID) && !state.book.inFlight.get(f.diffPHID)?.targetPHID);
  const targeted = new Map((await withTargets(fresh, ports, signal)).map((f) => [f.push.pushId, f]));
  const gapIds = new Set(gaps);
  return {
    listed,
    lastPushId,
    gapFound: [...listed].filter((id) => gapIds.has(id)).length,
    bot: bot.map((f) => targeted.get(f.push.pushId) ?? { ...f, ...withKnownTarget(f, state) }),
    others,
    impossible,
  };
}

/** A push whose diff is tracked already keeps the target read before. */
function withKnownTarget(found: FoundPush, state: ReviewState): { targetPHID?: string } {
  const target = state.book.inFlight.get(found.diffPHID)?.targetPHID;
  return target === undefined ? {} : { targetPHID: target };
}
