// The reviews in flight: diffs the code-review bot pushed to Try whose Harbormaster build target has
// not reached a result yet, and what the service has measured of each. Pure: every function takes the
// book and the time and returns a new book with what happened.
import { isFresh } from "../run/stale.ts";
import type { BuildTarget } from "../phabricator/review-lookup.ts";

export interface TryPush {
  pushId: number;
  /** Unix seconds, from the pushlog. */
  pushTime: number;
  node: string;
}

export interface Review {
  diffPHID: string;
  revisionId?: number;
  /** Unix seconds (`fields.dateCreated` of the diff); undefined until differential.diff.search answered. */
  diffCreated?: number;
  /** Undefined for a review recovered after a restart until (unless) its Try push is read. */
  tryPush?: TryPush;
  /** A Try push this process read, or a build target still waiting that it found at start-up. */
  source: "try" | "recovered";
  /** When (ms) this process started tracking it; the 24 h bound counts from here. */
  trackedSince: number;
  latencyObserved: boolean;
  /**
   * The bot's own build target: `parameters.phabricator_diff` of the Try push's try_task_config.json
   * (mozilla/code-review bot/code_review_bot/vcs.py writes `build.target_phid` there). Undefined
   * until that file was read.
   */
  targetPHID?: string;
  /** The build and build step of that target, once harbormaster.target.search named them. */
  buildPHID?: string;
  stepPHID?: string;
}

export interface ReviewBook {
  inFlight: ReadonlyMap<string, Review>;
  /** Diffs finished or dropped, and when (ms): a redelivered Try push must not start them again. */
  done: ReadonlyMap<string, number>;
}

export interface ReviewLimits {
  maxInFlight: number;
  maxAgeMs: number;
  /** How long a finished diff is remembered, against redeliveries and repeated pushes. */
  rememberDoneMs: number;
}

export const REVIEW_LIMITS: ReviewLimits = {
  // The bot pushes a few hundred diffs a day and each is dropped after 24 h: ten times that is a leak.
  maxInFlight: 5000,
  maxAgeMs: 24 * 3600_000,
  rememberDoneMs: 48 * 3600_000,
};

export const EMPTY_BOOK: ReviewBook = { inFlight: new Map(), done: new Map() };

export type Outcome = "passed" | "failed";

/** Where a review stands, read off its build target and that target's build. */
export type TargetState = { state: "in_flight" } | { state: Outcome | "aborted"; completedAt: number };

/**
 * Build statuses after which no target of the build will move: aborting a build sets only the
 * build's status and leaves its targets `target/waiting` for ever
 * (phacility/phabricator src/applications/harbormaster/xaction/build/HarbormasterBuildMessageAbortTransaction.php),
 * and so do an unexpected error and a deadlock (harbormaster/constants/HarbormasterBuildStatus.php).
 */
const FINAL_BUILD_STATUSES = new Set(["aborted", "error", "deadlocked"]);

/**
 * The state of the review whose bot target is `own`. A restarted build makes targets of a new
 * generation and keeps the old ones, so the live target is the same step's of the newest
 * generation among `buildTargets` (every target of own's build). Targets of other builds on the
 * same buildable (other build plans, autoplans) are never passed in, so never count.
 */
export function reviewState(own: BuildTarget, buildTargets: readonly BuildTarget[], buildStatus: string | undefined, nowSec: number): TargetState {
  let live = own;
  for (const t of buildTargets) {
    if (t.buildPHID === own.buildPHID && t.stepPHID === own.stepPHID && t.buildGeneration > live.buildGeneration) live = t;
  }
  if (live.status === "target/passed") return { state: "passed", completedAt: live.epochCompleted ?? nowSec };
  if (live.status === "target/failed") return { state: "failed", completedAt: live.epochCompleted ?? nowSec };
  if (live.status === "target/aborted") return { state: "aborted", completedAt: live.epochCompleted ?? nowSec };
  if (buildStatus !== undefined && FINAL_BUILD_STATUSES.has(buildStatus)) return { state: "aborted", completedAt: nowSec };
  return { state: "in_flight" };
}

function withDropped(book: ReviewBook, dropped: Iterable<string>, nowMs: number): { inFlight: Map<string, Review>; done: Map<string, number> } {
  const inFlight = new Map(book.inFlight);
  const done = new Map(book.done);
  for (const phid of dropped) {
    inFlight.delete(phid);
    done.set(phid, nowMs);
  }
  return { inFlight, done };
}

/**
 * Starts tracking the diffs of code-review Try pushes. A diff already finished, or already pushed,
 * keeps its first push; a recovered one gets its push attached.
 */
export function trackTryPushes(
  book: ReviewBook,
  pushes: ReadonlyArray<{ diffPHID: string; revisionId?: number; targetPHID?: string; push: TryPush }>,
  nowMs: number,
  limits: ReviewLimits = REVIEW_LIMITS,
): { book: ReviewBook; started: number; repeated: number; overflow: Review[] } {
  const inFlight = new Map(book.inFlight);
  let started = 0;
  let repeated = 0;
  for (const { diffPHID, revisionId, targetPHID, push } of pushes) {
    const known = inFlight.get(diffPHID);
    if (known?.source === "recovered" && known.tryPush?.pushId === push.pushId && known.latencyObserved) {
      // Read back at start-up, and now its message arrives: that message was still on the queue, so the
      // process before this one never acked it, hence never measured it (it measures before it acks).
      inFlight.set(diffPHID, { ...known, source: "try", latencyObserved: false });
      repeated++;
      continue;
    }
    if (book.done.has(diffPHID) || known?.tryPush) {
      repeated++;
      continue;
    }
    const rev = revisionId === undefined ? {} : { revisionId };
    const target = targetPHID === undefined ? {} : { targetPHID };
    if (known) {
      inFlight.set(diffPHID, { ...known, ...rev, ...target, tryPush: push });
      continue;
    }
    inFlight.set(diffPHID, { diffPHID, ...rev, ...target, tryPush: push, source: "try", trackedSince: nowMs, latencyObserved: false });
    started++;
  }
  const overflow: Review[] = [];
  if (inFlight.size > limits.maxInFlight) {
    const oldest = [...inFlight.values()].sort((a, b) => a.trackedSince - b.trackedSince);
    overflow.push(...oldest.slice(0, inFlight.size - limits.maxInFlight));
  }
  const next = withDropped(
    { inFlight, done: book.done },
    overflow.map((r) => r.diffPHID),
    nowMs,
  );
  return { book: next, started, repeated, overflow };
}

/**
 * Adds the reviews found in flight at start-up (code-review Try pushes of the last day whose target
 * has no result); those already tracked or finished are left alone. Their Try push latency was
 * measured by the process that acked the push's message; should that message still arrive, nobody
 * did, and trackTryPushes measures it then.
 */
export function recoverReviews(
  book: ReviewBook,
  found: ReadonlyArray<{ diffPHID: string; diffCreated: number; targetPHID: string; revisionId?: number; push: TryPush }>,
  nowMs: number,
): { book: ReviewBook; recovered: number } {
  const inFlight = new Map(book.inFlight);
  let recovered = 0;
  for (const { diffPHID, diffCreated, targetPHID, revisionId, push } of found) {
    if (inFlight.has(diffPHID) || book.done.has(diffPHID)) continue;
    const rev = revisionId === undefined ? {} : { revisionId };
    inFlight.set(diffPHID, { diffPHID, ...rev, diffCreated, targetPHID, tryPush: push, source: "recovered", trackedSince: nowMs, latencyObserved: true });
    recovered++;
  }
  return { book: { inFlight, done: book.done }, recovered };
}

/** Records what Conduit said about diffs and build targets. */
export function describeReviews(book: ReviewBook, facts: { created?: ReadonlyMap<string, number>; targets?: ReadonlyMap<string, BuildTarget> }): ReviewBook {
  const inFlight = new Map(book.inFlight);
  for (const [phid, review] of inFlight) {
    const created = facts.created?.get(phid);
    const target = review.targetPHID === undefined ? undefined : facts.targets?.get(review.targetPHID);
    if (created === undefined && target === undefined) continue;
    inFlight.set(phid, {
      ...review,
      ...(created === undefined ? {} : { diffCreated: created }),
      ...(target === undefined ? {} : { buildPHID: target.buildPHID, stepPHID: target.stepPHID }),
    });
  }
  return { inFlight, done: book.done };
}

/**
 * Try push latency (push time − diff created, seconds) for each review that has both and has not been
 * measured yet. A push before its diff's creation can only be clock skew: it counts as 0.
 */
export function takeLatencies(book: ReviewBook): { book: ReviewBook; latencies: Array<{ diffPHID: string; seconds: number }> } {
  const inFlight = new Map(book.inFlight);
  const latencies: Array<{ diffPHID: string; seconds: number }> = [];
  for (const [phid, review] of inFlight) {
    if (review.latencyObserved || !review.tryPush || review.diffCreated === undefined) continue;
    latencies.push({ diffPHID: phid, seconds: Math.max(0, review.tryPush.pushTime - review.diffCreated) });
    inFlight.set(phid, { ...review, latencyObserved: true });
  }
  return { book: { inFlight, done: book.done }, latencies };
}

/**
 * Ends the reviews whose targets reached a result: review time = completion − diff created. One whose
 * creation time is still unknown waits for it; an aborted one ends with no measure.
 */
export function finishReviews(
  book: ReviewBook,
  states: ReadonlyMap<string, TargetState>,
  nowMs: number,
): { book: ReviewBook; finished: Array<{ review: Review; outcome: Outcome; seconds: number }>; aborted: Review[] } {
  const finished: Array<{ review: Review; outcome: Outcome; seconds: number }> = [];
  const aborted: Review[] = [];
  for (const [phid, state] of states) {
    const review = book.inFlight.get(phid);
    if (!review || state.state === "in_flight" || review.diffCreated === undefined) continue;
    if (state.state === "aborted") aborted.push(review);
    else finished.push({ review, outcome: state.state, seconds: Math.max(0, state.completedAt - review.diffCreated) });
  }
  const ended = [...finished.map((f) => f.review.diffPHID), ...aborted.map((r) => r.diffPHID)];
  return { book: withDropped(book, ended, nowMs), finished, aborted };
}

/** Drops reviews tracked for longer than the limit, and forgets finished diffs after a while. */
export function expireReviews(book: ReviewBook, nowMs: number, limits: ReviewLimits = REVIEW_LIMITS): { book: ReviewBook; expired: Review[] } {
  const expired = [...book.inFlight.values()].filter((r) => nowMs - r.trackedSince > limits.maxAgeMs);
  const next = withDropped(
    book,
    expired.map((r) => r.diffPHID),
    nowMs,
  );
  for (const [phid, at] of next.done) if (nowMs - at > limits.rememberDoneMs) next.done.delete(phid);
  return { book: next, expired };
}

/** A review in flight for longer than this (seconds, from its diff's creation) is stuck: eight times a good day's 12–15 minutes. */
export const STUCK_REVIEW_S = 7200;

/** Where a review's age counts from (Unix seconds): its diff's creation, or when it was first seen while that is unknown. */
export function reviewStartSeconds(review: Review): number {
  return review.diffCreated ?? review.trackedSince / 1000;
}

/** Whether a review has been in flight for strictly more than STUCK_REVIEW_S at `nowMs`. */
export function isStuck(review: Review, nowMs: number): boolean {
  return nowMs / 1000 - reviewStartSeconds(review) > STUCK_REVIEW_S;
}

/**
 * How many reviews are in flight, the age (seconds) of the oldest, counted from reviewStartSeconds,
 * 0 when none is in flight, and how many are stuck.
 */
export function inFlightSummary(book: ReviewBook, nowMs: number): { count: number; oldestSeconds: number; stuck: number } {
  let oldestStart = Number.POSITIVE_INFINITY;
  let stuck = 0;
  for (const review of book.inFlight.values()) {
    oldestStart = Math.min(oldestStart, reviewStartSeconds(review));
    if (isStuck(review, nowMs)) stuck++;
  }
  const count = book.inFlight.size;
  return { count, oldestSeconds: count === 0 ? 0 : Math.max(0, Math.floor(nowMs / 1000 - oldestStart)), stuck };
}

/** What the code-review check publishes for the scrape-time collectors. */
export interface ReviewView {
  book: ReviewBook;
  /** Whether the book is the whole picture: start-up recovery done, and the Try queue read by us alone. */
  whole: boolean;
  /** When (ms) the targets were last polled; undefined before. */
  polledAt: number | undefined;
  /** The newest code-review bot's Try push this process has read (Unix seconds for its time). */
  lastCodeReviewPush?: { pushId: number; pushTime: number } | undefined;
  /** When (ms) the last check ended, and the last one that completed; why the last one failed. */
  lastCheckAt?: number | undefined;
  lastSuccessAt?: number | undefined;
  lastError?: string | undefined;
}

export const UNKNOWN_REVIEWS: ReviewView = { book: EMPTY_BOOK, whole: false, polledAt: undefined };

/** The reviews in flight at `nowMs`, or undefined when the view is partial or older than `staleAfterMs`. */
export function reviewsInFlightAt(view: ReviewView, nowMs: number, staleAfterMs: number): { count: number; oldestSeconds: number; stuck: number } | undefined {
  if (!view.whole || !isFresh(view.polledAt, nowMs, staleAfterMs)) return undefined;
  return inFlightSummary(view.book, nowMs);
}
