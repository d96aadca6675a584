// Where one diff stands in the code-review pipeline, for `display-lag D123` / `display-lag PHID-DIFF-…`:
// created, pushed to Try, result, and the two durations the service measures. Read from Phabricator and
// the Try pushlog, so it works without the running service.
import type { PushlogClient } from "./adapters/pushlog.ts";
import type { ReviewLookup } from "./adapters/review-lookup.ts";
import { findReviewCommit } from "./core/review-commit.ts";
import { targetState, type BuildTarget, type TargetState } from "./core/reviews.ts";

/** The Try pushlog is read in windows of this many seconds, up to the bot's 24 h limit. */
const WINDOW_SECONDS = 4 * 3600;
const SEARCH_SECONDS = 24 * 3600;

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
    const end = Math.min(diff.dateCreated + SEARCH_SECONDS, deps.nowMs / 1000 + 1);
    // The date bounds are exclusive: each window starts one second before the last one ended.
    for (let start = diff.dateCreated - 1; start < end && tryPush === null; start += WINDOW_SECONDS) {
      for (const push of await deps.pushlog.fetchTipsBetween(deps.tryRepository, start, Math.min(end, start + WINDOW_SECONDS + 1), deps.signal)) {
        const commit = findReviewCommit(push.changesets);
        if (commit?.diffPHID === diffPHID) {
          tryPush = { pushId: push.pushId, pushTime: push.date, node: commit.node };
          break;
        }
      }
    }
  }

  const builds = (await deps.reviews.buildsOfDiffs([diffPHID], deps.signal)).get(diffPHID) ?? [];
  const targets = builds.length > 0 ? await deps.reviews.targetsOfBuilds(builds, deps.signal) : new Map<string, BuildTarget[]>();
  const target = builds.length > 0 ? targetState(builds.flatMap((b) => targets.get(b) ?? [])) : undefined;
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
    lines.push(`  pushed to Try: push ${status.tryPush.pushId} (${status.tryPush.node.slice(0, 12)}) at ${iso(status.tryPush.pushTime)}; Try push latency (seconds): ${latency}`);
  }
  const target = status.target;
  if (target === undefined) lines.push("  result: no Harbormaster build for this diff");
  else if (target.state === "in_flight") lines.push(`  result: none yet; in flight for (seconds): ${Math.max(0, Math.floor(nowMs / 1000) - status.created)}`);
  else if (target.state === "aborted") lines.push(`  result: build aborted at ${iso(target.completedAt)}; not measured`);
  else lines.push(`  result: ${target.state} at ${iso(target.completedAt)}; review time (seconds): ${Math.max(0, target.completedAt - status.created)}`);
  return lines;
}
