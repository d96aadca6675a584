// The reviews in flight: diffs the code-review bot pushed to Try whose Harbormaster build target has
// not reached a result yet, and what the service has measured of each. Pure: every function takes the
// book and the time and returns a new book with what happened.

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
  /** The Harbormaster builds of the diff, once found; they do not change, so they are looked up once. */
  buildPHIDs?: readonly string[];
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

/** Where a diff's build targets stand, read off `harbormaster.target.search` rows. */
export type TargetState = { state: "in_flight" } | { state: Outcome | "aborted"; completedAt: number };

export interface BuildTarget {
  buildPHID: string;
  status: string;
  epochCompleted: number | null;
  buildGeneration: number;
}

/**
 * Only the latest generation of each build counts (a restarted build keeps its old targets). The
 * review is over when every such target is final: failed if any failed, aborted if any was aborted
 * and none failed, passed if all passed; it ended when the last of them completed.
 */
export function targetState(targets: readonly BuildTarget[]): TargetState {
  const latest = new Map<string, number>();
  for (const t of targets) latest.set(t.buildPHID, Math.max(latest.get(t.buildPHID) ?? 0, t.buildGeneration));
  const current = targets.filter((t) => t.buildGeneration === latest.get(t.buildPHID));
  if (current.length === 0) return { state: "in_flight" };
  const final = { "target/passed": "passed", "target/failed": "failed", "target/aborted": "aborted" } as const;
  let completedAt = 0;
  const outcomes = new Set<string>();
  for (const t of current) {
    const outcome = final[t.status as keyof typeof final];
    if (outcome === undefined) return { state: "in_flight" };
    outcomes.add(outcome);
    completedAt = Math.max(completedAt, t.epochCompleted ?? 0);
  }
  const state = outcomes.has("failed") ? "failed" : outcomes.has("aborted") ? "aborted" : "passed";
  return { state, completedAt };
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
  pushes: ReadonlyArray<{ diffPHID: string; revisionId?: number; push: TryPush }>,
  nowMs: number,
  limits: ReviewLimits = REVIEW_LIMITS,
): { book: ReviewBook; started: number; repeated: number; overflow: Review[] } {
  const inFlight = new Map(book.inFlight);
  let started = 0;
  let repeated = 0;
  for (const { diffPHID, revisionId, push } of pushes) {
    const known = inFlight.get(diffPHID);
    if (book.done.has(diffPHID) || known?.tryPush) {
      repeated++;
      continue;
    }
    const rev = revisionId === undefined ? {} : { revisionId };
    if (known) {
      inFlight.set(diffPHID, { ...known, ...rev, tryPush: push });
      continue;
    }
    inFlight.set(diffPHID, { diffPHID, ...rev, tryPush: push, source: "try", trackedSince: nowMs, latencyObserved: false });
    started++;
  }
  const overflow: Review[] = [];
  if (inFlight.size > limits.maxInFlight) {
    const oldest = [...inFlight.values()].sort((a, b) => a.trackedSince - b.trackedSince);
    overflow.push(...oldest.slice(0, inFlight.size - limits.maxInFlight));
  }
  const next = withDropped({ inFlight, done: book.done }, overflow.map((r) => r.diffPHID), nowMs);
  return { book: next, started, repeated, overflow };
}

/** Adds reviews found waiting at start-up; those already tracked or finished are left alone. */
export function recoverReviews(
  book: ReviewBook,
  found: ReadonlyArray<{ diffPHID: string; diffCreated: number; buildPHIDs: readonly string[] }>,
  nowMs: number,
): { book: ReviewBook; recovered: number } {
  const inFlight = new Map(book.inFlight);
  let recovered = 0;
  for (const { diffPHID, diffCreated, buildPHIDs } of found) {
    if (inFlight.has(diffPHID) || book.done.has(diffPHID)) continue;
    inFlight.set(diffPHID, { diffPHID, diffCreated, buildPHIDs, source: "recovered", trackedSince: nowMs, latencyObserved: false });
    recovered++;
  }
  return { book: { inFlight, done: book.done }, recovered };
}

/** Records what Conduit said about diffs and builds. */
export function describeReviews(
  book: ReviewBook,
  facts: { created?: ReadonlyMap<string, number>; builds?: ReadonlyMap<string, readonly string[]> },
): ReviewBook {
  const inFlight = new Map(book.inFlight);
  for (const [phid, review] of inFlight) {
    const created = facts.created?.get(phid);
    const builds = facts.builds?.get(phid);
    if (created === undefined && builds === undefined) continue;
    inFlight.set(phid, {
      ...review,
      ...(created === undefined ? {} : { diffCreated: created }),
      ...(builds === undefined ? {} : { buildPHIDs: builds }),
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
  const next = withDropped(book, expired.map((r) => r.diffPHID), nowMs);
  for (const [phid, at] of next.done) if (nowMs - at > limits.rememberDoneMs) next.done.delete(phid);
  return { book: next, expired };
}

/**
 * How many reviews are in flight and the age (seconds) of the oldest, counted from its diff's creation
 * (or from when it was first seen, while that is unknown); 0 when none is in flight.
 */
export function inFlightSummary(book: ReviewBook, nowMs: number): { count: number; oldestSeconds: number } {
  let oldestStart = Number.POSITIVE_INFINITY;
  for (const review of book.inFlight.values()) {
    oldestStart = Math.min(oldestStart, review.diffCreated ?? review.trackedSince / 1000);
  }
  const count = book.inFlight.size;
  return { count, oldestSeconds: count === 0 ? 0 : Math.max(0, Math.floor(nowMs / 1000 - oldestStart)) };
}
