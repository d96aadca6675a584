// The ordered walk of one repository's pushes: a push counts as verified only when all of its
// commits are in the mirror and every push before it is verified too. Pure.
import type { Push } from "./hgpush-message.ts";

export interface PushCommits {
  /** The push's changesets from the pushlog; undefined when the pushlog did not list the push. */
  changesets: readonly string[] | undefined;
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
  for (const push of pushes) {
    const commits = commitsOf(push);
    if (!commits) return { verified, stoppedAt: { push, reason: { kind: "unknown" } } };
    if (!commits.changesets) return { verified, stoppedAt: { push, reason: { kind: "not_in_pushlog" } } };
    for (const node of commits.changesets) {
      const state = mirrored(node);
      if (state === undefined) return { verified, stoppedAt: { push, reason: { kind: "unknown" } } };
      if (!state) return { verified, stoppedAt: { push, reason: { kind: "missing", node } } };
    }
    verified.push(push);
  }
  return { verified };
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
