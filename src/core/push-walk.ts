// The ordered walk of one repository's pushes: a push counts as verified only when all of its
// commits are in the mirror and every push before it is verified too. Pure.
import type { Push } from "./hgpush-message.ts";
import type { GiveUpReason } from "./absent-pushes.ts";

export interface PushCommits {
  /** The push's changesets from the pushlog; undefined when the pushlog did not list the push. */
  changesets: readonly string[] | undefined;
  /** For a push the pushlog did not list: set when it will not be waited for any more. */
  givenUp?: GiveUpReason;
}

export type StopReason =
  /** A commit of the push is not in the mirror yet. */
  | { kind: "missing"; node: string }
  /** The pushlog does not (yet) list the push. */
  | { kind: "not_in_pushlog" }
  /** The walk was not told about this push's commits (an upstream failure, or the check was stopped). */
  | { kind: "unknown" };

export interface WalkResult {
  verified: Push[];
  /** Pushes passed over because the pushlog will never list them; they hold nothing up. */
  givenUp: Array<{ push: Push; reason: GiveUpReason }>;
  /** The first push that is not verified, and why; absent when every push is. */
  stoppedAt?: { push: Push; reason: StopReason };
}

/**
 * @param mirrored true or false for each commit the mirror was asked about; undefined when unknown.
 */
export function walkPushes(
  pushes: readonly Push[],
  commitsOf: (push: Push) => PushCommits | undefined,
  mirrored: (node: string) => boolean | undefined,
): WalkResult {
  const verified: Push[] = [];
  const givenUp: WalkResult["givenUp"] = [];
  for (const push of pushes) {
    const commits = commitsOf(push);
    if (!commits) return { verified, givenUp, stoppedAt: { push, reason: { kind: "unknown" } } };
    if (!commits.changesets) {
      if (commits.givenUp === undefined) return { verified, givenUp, stoppedAt: { push, reason: { kind: "not_in_pushlog" } } };
      givenUp.push({ push, reason: commits.givenUp });
      continue;
    }
    for (const node of commits.changesets) {
      const state = mirrored(node);
      if (state === undefined) return { verified, givenUp, stoppedAt: { push, reason: { kind: "unknown" } } };
      if (!state) return { verified, givenUp, stoppedAt: { push, reason: { kind: "missing", node } } };
    }
    verified.push(push);
  }
  return { verified, givenUp };
}

/**
 * Push id ranges for the pushlog, one per run of consecutive ids, each at most `maxPushes` long.
 * `startId` is exclusive and `endId` inclusive, as json-pushes reads them.
 */
export function pushIdRanges(pushIds: readonly number[], maxPushes: number): Array<{ startId: number; endId: number }> {
  const ranges: Array<{ startId: number; endId: number }> = [];
  let first: number | undefined;
  let last = 0;
  for (const id of [...pushIds].sort((a, b) => a - b)) {
    if (first !== undefined && id === last) continue;
    if (first !== undefined && id === last + 1 && id - first < maxPushes) {
      last = id;
      continue;
    }
    if (first !== undefined) ranges.push({ startId: first - 1, endId: last });
    first = id;
    last = id;
  }
  if (first !== undefined) ranges.push({ startId: first - 1, endId: last });
  return ranges;
}
