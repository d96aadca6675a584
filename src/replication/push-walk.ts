// The ordered walk of one repository's pushes: a push counts as verified only when all of its
// commits are in the mirror and every push before it is verified too. Pure.
import type { Push } from "../hgpush/hgpush-message.ts";
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";

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

type Judgement = { kind: "verified" } | { kind: "given_up"; reason: GiveUpReason } | { kind: "stop"; reason: StopReason };

/** The walk's rule for one push: verified, passed over, or where the walk stops. */
function judge(push: Push, commitsOf: (push: Push) => PushCommits | undefined, mirrored: (node: string) => boolean | undefined): Judgement {
  const commits = commitsOf(push);
  if (!commits) return { kind: "stop", reason: { kind: "unknown" } };
  if (!commits.changesets) {
    return commits.givenUp === undefined ? { kind: "stop", reason: { kind: "not_in_pushlog" } } : { kind: "given_up", reason: commits.givenUp };
  }
  for (const node of commits.changesets) {
    const state = mirrored(node);
    if (state === undefined) return { kind: "stop", reason: { kind: "unknown" } };
    if (!state) return { kind: "stop", reason: { kind: "missing", node } };
  }
  return { kind: "verified" };
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
    const judged = judge(push, commitsOf, mirrored);
    if (judged.kind === "stop") return { verified, givenUp, stoppedAt: { push, reason: judged.reason } };
    if (judged.kind === "given_up") givenUp.push({ push, reason: judged.reason });
    else verified.push(push);
  }
  return { verified, givenUp };
}

/** Where a walk stops, as an index into its pushes and the reason; absent when it goes through them all. */
export interface WalkStop {
  index: number;
  stoppedAt: { push: Push; reason: StopReason };
}

/**
 * The stop of walkPushes alone, from push `from` on, collecting nothing it passes: for a walk that is
 * resumed as ranges of the pushlog and answers of the mirror come in. What it learns only grows (a
 * push once verified stays verified), so it resumes from the last stop, and a 5,000-push walk over 25
 * ranges looks at each push about once instead of once a range.
 */
export function walkStop(
  pushes: readonly Push[],
  commitsOf: (push: Push) => PushCommits | undefined,
  mirrored: (node: string) => boolean | undefined,
  from = 0,
): WalkStop | undefined {
  for (let index = from; index < pushes.length; index++) {
    const push = pushes[index] as Push;
    const judged = judge(push, commitsOf, mirrored);
    if (judged.kind === "stop") return { index, stoppedAt: { push, reason: judged.reason } };
  }
  return undefined;
}
