// The code-review check's start-up read-back: what a restart had in flight, the code-review Try
// pushes of the last 24 h whose bot target has no result yet. Read from the Try pushlog (by push id,
// whole pushes: never tipsonly, see pushlogPath) and the targets their try_task_config.json names,
// so only code-review reviews are read back, never every waiting target on the instance.
import type { ReviewLookup } from "../phabricator/review-lookup.ts";
import { REVIEW_LIMITS, reviewState, type TryPush } from "./reviews.ts";
import { TRY_SLICE, codeReviewPushes, withTargets, type FoundPush, type TryPorts } from "./read-try-pushes.ts";

/** Try pushes read back at start-up, at most (TRY_SLICE a request): well over a day of Try. */
const MAX_RECOVERY_PUSHES = 10_000;

export interface RecoveredReview {
  diffPHID: string;
  diffCreated: number;
  targetPHID: string;
  revisionId?: number;
  push: TryPush;
}

/** The code-review pushes of the day before `nowMs`, the newest per diff. */
async function lastDayOfPushes(ports: TryPorts, nowMs: number, signal?: AbortSignal): Promise<FoundPush[]> {
  const since = nowMs / 1000 - REVIEW_LIMITS.maxAgeMs / 1000;
  const first = await ports.pushlog.firstPushIdSince(ports.tryRepository, since, signal);
  const latest = new Map<string, FoundPush>();
  for (let from = first - 1, last = Number.POSITIVE_INFINITY; from < last && from - first < MAX_RECOVERY_PUSHES; from += TRY_SLICE) {
    const slice = await ports.pushlog.fetchFullRange(ports.tryRepository, { startId: from, endId: from + TRY_SLICE }, signal);
    last = slice.lastPushId;
    for (const found of codeReviewPushes(slice.pushes.values()).found) if (found.push.pushTime >= since) latest.set(found.diffPHID, found);
  }
  return [...latest.values()];
}

export async function readBack(ports: TryPorts & { reviews: ReviewLookup }, nowMs: number, signal?: AbortSignal): Promise<RecoveredReview[]> {
  const pushes = (await withTargets(await lastDayOfPushes(ports, nowMs, signal), ports, signal)).filter((f) => f.targetPHID !== undefined);
  const targets = await ports.reviews.targets(
    pushes.map((f) => f.targetPHID as string),
    signal,
  );
  const buildPHIDs = [...new Set([...targets.values()].map((t) => t.buildPHID))];
  const [builds, buildTargets] =
    buildPHIDs.length === 0
      ? [new Map<string, string>(), []]
      : await Promise.all([ports.reviews.buildStatuses(buildPHIDs, signal), ports.reviews.targetsOfBuilds(buildPHIDs, signal)]);
  const waiting = pushes.filter((f) => {
    const target = targets.get(f.targetPHID as string);
    return target !== undefined && reviewState(target, buildTargets, builds.get(target.buildPHID), nowMs / 1000).state === "in_flight";
  });
  const facts = await ports.reviews.diffs(
    waiting.map((f) => f.diffPHID),
    signal,
  );
  return waiting.flatMap((f) => {
    const created = facts.get(f.diffPHID)?.dateCreated;
    if (created === undefined) return [];
    return [
      {
        diffPHID: f.diffPHID,
        diffCreated: created,
        targetPHID: f.targetPHID as string,
        push: f.push,
        ...(f.revisionId === undefined ? {} : { revisionId: f.revisionId }),
      },
    ];
  });
}
