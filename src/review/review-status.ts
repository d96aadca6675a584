// Where one diff stands in the code-review pipeline, for `display-lag D123` / `display-lag PHID-DIFF-…`:
// created, pushed to Try, result, and the two durations the service measures. Read from Phabricator and
// the Try pushlog, so it works without the running service.
import type { PushlogClient } from "../pushlog/pushlog.ts";
import type { ReviewLookup } from "../phabricator/review-lookup.ts";
import { TRY_TASK_CONFIG, findReviewCommit, targetOfTryTaskConfig } from "./review-commit.ts";
import { reviewState, type TargetState } from "./reviews.ts";
import { TRY_SLICE } from "./read-try-pushes.ts";

/**
 * The Try pushlog is read this many whole pushes at a time (never tipsonly: see pushlogPath), up to
 * 24 h after the diff: the pipeline check's slice, since people's Try pushes can be large.
 */
const SLICE = TRY_SLICE;
const SEARCH_SECONDS = 24 * 3600;
/** Pushes read before the one the halving found, for pushes whose clocks disagreed a little. */
const SKEW_PUSHES = 20;

export type DiffRef = { kind: "revision"; id: number } | { kind: "diff"; phid: string };

export function parseDiffRef(text: string): DiffRef | undefined {
  const revision = /^D(\d{1,9})$/.exec(text);
  if (revision) return { kind: "revision", id: Number(revision[1]) };
  if (/^PHID-DIFF-[a-z0-9]{1,64}$/.test(text)) return { kind: "diff", phid: text };
  return undefined;
}

export type ReviewStatus =
  | { found: false; ref: string; why: string }
  | {
      found: true;
      ref: string;
      diffPHID: string;
      diffId: number;
      created: number;
      /** Undefined when Try was not searched (no CODE_REVIEW_TRY_REPOSITORY). */
      tryPush: { pushId: number; pushTime: number; node: string } | null | undefined;
      target: TargetState | undefined;
    };

export async function lookupReviewStatus(
  ref: string,
  deps: { reviews: ReviewLookup; pushlog: PushlogClient; tryRepository: string | undefined; nowMs: number; signal?: AbortSignal },
): Promise<ReviewStatus> {
  const parsed = parseDiffRef(ref);
  if (!parsed) return { found: false, ref, why: "not a D-number or a PHID-DIFF" };
  let diffPHID: string;
  if (parsed.kind === "revision") {
    const revision = (await deps.reviews.revisions([parsed.id], deps.signal)).get(parsed.id);
    if (!revision) return { found: false, ref, why: "no such revision (or it is not visible to this token)" };
    diffPHID = revision.diffPHID;
  } else {
    diffPHID = parsed.phid;
  }
  const diff = (await deps.reviews.diffs([diffPHID], deps.signal)).get(diffPHID);
  if (!diff) return { found: false, ref, why: `no such diff ${diffPHID} (or it is not visible to this token)` };

  let tryPush: { pushId: number; pushTime: number; node: string } | null | undefined;
  if (deps.tryRepository !== undefined) {
    tryPush = null;
    const end = diff.dateCreated + SEARCH_SECONDS;
    let from = Math.max(0, (await deps.pushlog.firstPushIdSince(deps.tryRepository, diff.dateCreated, deps.signal)) - 1 - SKEW_PUSHES);
    for (let reading = true; reading && tryPush === null; from += SLICE) {
      const slice = await deps.pushlog.fetchFullRange(deps.tryRepository, { startId: from, endId: from + SLICE }, deps.signal);
      for (const push of [...slice.pushes.values()].sort((a, b) => a.pushId - b.pushId)) {
        if (push.pushTime > end) reading = false;
        const commit = findReviewCommit(push.changesets);
        if (commit?.diffPHID === diffPHID) {
          tryPush = { pushId: push.pushId, pushTime: push.pushTime, node: commit.node };
          break;
        }
      }
      if (from + SLICE >= slice.lastPushId) reading = false;
    }
  }

  // The result is the bot's own target's, named in the try_task_config.json of its Try push.
  let target: TargetState | undefined;
  if (tryPush && deps.tryRepository !== undefined) {
    const text = await deps.pushlog.fetchRawFile(deps.tryRepository, tryPush.node, TRY_TASK_CONFIG, deps.signal);
    const targetPHID = text === undefined ? undefined : targetOfTryTaskConfig(text);
    const own = targetPHID === undefined ? undefined : (await deps.reviews.targets([targetPHID], deps.signal)).get(targetPHID);
    if (own) {
      const [buildTargets, statuses] = await Promise.all([
        deps.reviews.targetsOfBuilds([own.buildPHID], deps.signal),
        deps.reviews.buildStatuses([own.buildPHID], deps.signal),
      ]);
      target = reviewState(own, buildTargets, statuses.get(own.buildPHID), deps.nowMs / 1000);
    }
  }
  return { found: true, ref, diffPHID, diffId: diff.id, created: diff.dateCreated, tryPush, target };
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

export function formatReviewStatus(status: ReviewStatus, nowMs: number): string[] {
  if (!status.found) return [`${status.ref}: ${status.why}`];
  const name = status.ref === status.diffPHID ? status.diffPHID : `${status.ref} ${status.diffPHID}`;
  const lines = [`${name} (diff ${status.diffId}): created ${iso(status.created)}`];
  if (status.tryPush === undefined) lines.push("  pushed to Try: not searched (CODE_REVIEW_TRY_REPOSITORY is not set)");
  else if (status.tryPush === null) lines.push("  pushed to Try: no code-review Try push found in the 24 h after it was created");
  else {
    const latency = Math.max(0, status.tryPush.pushTime - status.created);
    lines.push(
      `  pushed to Try: push ${status.tryPush.pushId} (${status.tryPush.node.slice(0, 12)}) at ${iso(status.tryPush.pushTime)}; Try push latency (seconds): ${latency}`,
    );
  }
  const target = status.target;
  if (target === undefined)
    lines.push(status.tryPush ? "  result: the Try push names no build target Phabricator has" : "  result: unknown without its code-review Try push");
  else if (target.state === "in_flight") lines.push(`  result: none yet; in flight for (seconds): ${Math.max(0, Math.floor(nowMs / 1000) - status.created)}`);
  else if (target.state === "aborted") lines.push(`  result: build aborted at ${iso(target.completedAt)}; not measured`);
  else lines.push(`  result: ${target.state} at ${iso(target.completedAt)}; review time (seconds): ${Math.max(0, target.completedAt - status.created)}`);
  return lines;
}
