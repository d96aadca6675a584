// The code-review check's decisions, pure over what gather.ts found: the reviews the Try pushes and
// the start-up read-back start, what Phabricator's answers finish, what is measured, and which Try
// messages are acked, handed back or set aside.
import type { BuildTarget } from "../phabricator/review-lookup.ts";
import type { CheckFailure } from "../run/check-failure.ts";
import type { Measurement, Note } from "../run/check.ts";
import { absenceAfterCheck, absentPushFate } from "../hgpush/absent-pushes.ts";
import type { HgpushPlan } from "../hgpush/read-plan.ts";
import { maxOf } from "../hgpush/pushlog-gaps.ts";
import {
  describeReviews,
  expireReviews,
  finishReviews,
  recoverReviews,
  reviewState,
  takeLatencies,
  trackTryPushes,
  type Review,
  type ReviewBook,
  type TargetState,
} from "./reviews.ts";
import type { PollEvidence } from "./poll.ts";
import type { RecoveredReview } from "./recover.ts";
import type { TryPushesRead } from "./read-try-pushes.ts";
import { TRY_TASK_CONFIG } from "./review-commit.ts";
import type { ReviewState } from "./state.ts";

export interface ReviewEvidence {
  started: number;
  /** Another consumer holds part of the Try queue: nothing was read back or polled. */
  shared: boolean;
  tryPushes: TryPushesRead | undefined;
  recovered: RecoveredReview[] | undefined;
  poll: PollEvidence | undefined;
  failures: CheckFailure[];
}

/** The book once this run's Try pushes are tracked and the read-back added: what is then polled. */
export function trackAndRecover(book: ReviewBook, tryPushes: TryPushesRead | undefined, recovered: readonly RecoveredReview[] | undefined, nowMs: number) {
  const tracked = trackTryPushes(
    book,
    (tryPushes?.bot ?? []).filter((f) => f.targetPHID !== undefined),
    nowMs,
  );
  const back = recoverReviews(tracked.book, recovered ?? [], nowMs);
  return { book: back.book, started: tracked.started, repeated: tracked.repeated, overflow: tracked.overflow, recovered: back.recovered };
}

/** Each placed review's target state, from the targets of its build and the build's status. */
function targetStates(book: ReviewBook, poll: PollEvidence, nowMs: number): Map<string, TargetState> {
  const byBuild = new Map<string, BuildTarget[]>();
  for (const t of poll.buildTargets) byBuild.set(t.buildPHID, [...(byBuild.get(t.buildPHID) ?? []), t]);
  const states = new Map<string, TargetState>();
  for (const review of book.inFlight.values()) {
    if (review.buildPHID === undefined) continue;
    const own = (byBuild.get(review.buildPHID) ?? []).find((t) => t.phid === review.targetPHID);
    if (own) states.set(review.diffPHID, reviewState(own, byBuild.get(own.buildPHID) ?? [], poll.statuses.get(own.buildPHID), nowMs / 1000));
  }
  return states;
}

export interface BookOutcome {
  book: ReviewBook;
  /** The book to keep when the broker did not take the acks: the latencies measured from this run's messages taken back. */
  unsettledBook: ReviewBook;
  measurements: Measurement[];
  notes: Note[];
  finished: Array<{ diffPHID: string; outcome: "passed" | "failed"; seconds: number }>;
  recovered: number;
}

const dropped = (reviews: readonly Review[], reason: string): { measurements: Measurement[]; notes: Note[] } =>
  reviews.length === 0
    ? { measurements: [], notes: [] }
    : {
        measurements: [{ metric: "phabmon_reviews_dropped_total", labels: { reason }, inc: reviews.length }],
        notes: [
          {
            level: "warn",
            msg: "stopped tracking reviews without a result",
            fields: { reason, count: reviews.length, diffs: reviews.slice(0, 20).map((r) => r.diffPHID) },
          },
        ],
      };

/** The reviews' book through this run, and what it measures. */
export function advanceBook(book0: ReviewBook, evidence: ReviewEvidence, nowMs: number): BookOutcome {
  const t = trackAndRecover(book0, evidence.tryPushes, evidence.recovered, nowMs);
  const described = evidence.poll === undefined ? t.book : describeReviews(t.book, { created: evidence.poll.created, targets: evidence.poll.targets });
  const taken = takeLatencies(described);
  const ended =
    evidence.poll === undefined
      ? { book: taken.book, finished: [], aborted: [] }
      : finishReviews(taken.book, targetStates(taken.book, evidence.poll, nowMs), nowMs);
  const expired = expireReviews(ended.book, nowMs);
  const measurements: Measurement[] = taken.latencies.map(({ seconds }) => ({ metric: "phabmon_try_push_latency_seconds", observe: seconds }));
  const notes: Note[] = [];
  for (const { review, outcome, seconds } of ended.finished) {
    measurements.push({ metric: "phabmon_review_duration_seconds", labels: { outcome }, observe: seconds });
    notes.push({
      level: "info",
      msg: "review finished",
      fields: { diff: review.diffPHID, revision: review.revisionId, target: review.targetPHID, outcome, seconds },
    });
  }
  const untargeted = (evidence.tryPushes?.bot ?? []).filter((f) => f.targetPHID === undefined && !book0.done.has(f.diffPHID));
  if (untargeted.length > 0) {
    // Without the bot's target there is no result to wait for: say so rather than track it for a day.
    measurements.push({ metric: "phabmon_reviews_dropped_total", labels: { reason: "no_target" }, inc: untargeted.length });
    notes.push({
      level: "warn",
      msg: `a code-review Try push without a build target in its ${TRY_TASK_CONFIG}: not tracked`,
      fields: { count: untargeted.length, diffs: untargeted.slice(0, 20).map((f) => f.diffPHID) },
    });
  }
  for (const part of [dropped(t.overflow, "overflow"), dropped(ended.aborted, "aborted"), dropped(expired.expired, "expired")]) {
    measurements.push(...part.measurements);
    notes.push(...part.notes);
  }
  if (evidence.recovered !== undefined) {
    measurements.push({ metric: "phabmon_reviews_recovered_total", inc: t.recovered });
    notes.push({ level: "info", msg: "read back the reviews in flight from the Try pushlog and Phabricator", fields: { recovered: t.recovered } });
  }
  const measuredNow = new Set(taken.latencies.map((l) => l.diffPHID));
  const unsettledBook = {
    inFlight: new Map([...expired.book.inFlight].map(([phid, r]) => [phid, measuredNow.has(phid) ? { ...r, latencyObserved: false } : r])),
    done: expired.book.done,
  };
  return {
    book: expired.book,
    unsettledBook,
    measurements,
    notes,
    finished: ended.finished.map((f) => ({ diffPHID: f.review.diffPHID, outcome: f.outcome, seconds: f.seconds })),
    recovered: t.recovered,
  };
}

/** Which Try messages are done with: those whose pushes the pushlog listed, or will never list. */
export function settleTryMessages(plan: HgpushPlan, tryRepository: string, read: TryPushesRead | undefined, state: ReviewState) {
  const announced = (plan.pushesByRepository.get(tryRepository) ?? []).map((p) => p.pushId);
  if (read === undefined)
    return { ack: [] as number[], setAside: [] as Array<{ index: number; reason: string }>, absences: state.absences, notes: [] as Note[] };
  const settled = new Set(read.listed);
  const waiting: number[] = [];
  const givenUp = new Map<number, string>();
  const notes: Note[] = [];
  // A push the pushlog does not list yet keeps its message on the queue for the next run; one it
  // will never list (stripped, or still absent after a few runs) is set aside.
  for (const id of announced) {
    if (read.listed.has(id)) continue;
    const fate = absentPushFate(id, read.lastPushId, (state.absences.get(id) ?? 0) + 1);
    if (fate.wait) waiting.push(id);
    else {
      givenUp.set(id, fate.reason);
      settled.add(id);
      notes.push({
        level: "warn",
        msg: "json-pushes will not list this Try push: set aside",
        fields: { repository: tryRepository, pushId: id, reason: fate.reason },
      });
    }
  }
  const ack: number[] = [];
  const setAside: Array<{ index: number; reason: string }> = [];
  for (const [index, carrier] of plan.carriers) {
    if (!carrier.pushIds.every((id) => settled.has(id))) continue;
    ack.push(index);
    const reason = carrier.pushIds.map((id) => givenUp.get(id)).find((r) => r !== undefined);
    if (reason !== undefined) setAside.push({ index, reason });
  }
  return { ack, setAside, absences: absenceAfterCheck(state.absences, waiting), notes };
}

/** The state's bookkeeping of Try pushes read: the last seen, and the newest code-review push. */
export function afterTryPushes(state: ReviewState, read: TryPushesRead | undefined): Pick<ReviewState, "lastSeenPushId" | "lastCodeReviewPush"> {
  if (read === undefined) return { lastSeenPushId: state.lastSeenPushId, lastCodeReviewPush: state.lastCodeReviewPush };
  const newest = read.bot.reduce<{ pushId: number; pushTime: number } | undefined>(
    (best, f) => (f.push.pushId > (best?.pushId ?? 0) ? { pushId: f.push.pushId, pushTime: f.push.pushTime } : best),
    state.lastCodeReviewPush,
  );
  return {
    lastSeenPushId: read.listed.size > 0 ? maxOf(read.listed, state.lastSeenPushId ?? 0) : state.lastSeenPushId,
    lastCodeReviewPush: newest,
  };
}
