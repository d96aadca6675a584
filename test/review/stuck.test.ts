import { describe, expect, it } from "vitest";
import { EMPTY_BOOK, describeReviews, finishReviews, inFlightSummary, recoverReviews, trackTryPushes, type ReviewBook } from "../../src/review/reviews.ts";
import { pipelineSection } from "../../src/review/status.ts";
import { STUCK_MESSAGE, crossedStuck, stuckNotes, stuckReviews } from "../../src/review/stuck.ts";

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0); // ms
const S0 = T0 / 1000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const push = (pushId: number, pushTime: number) => ({ pushId, pushTime, node: String(pushId).padStart(40, "0") });

/** Diffs a (D101, created at S0), b (D102, created 30 min later) and c (no revision named, created 1 h later). */
function book(): ReviewBook {
  const tracked = trackTryPushes(
    EMPTY_BOOK,
    [
      { diffPHID: "PHID-DIFF-a", revisionId: 101, targetPHID: "PHID-HMBT-a", push: push(501, S0 + 300) },
      { diffPHID: "PHID-DIFF-b", revisionId: 102, targetPHID: "PHID-HMBT-b", push: push(502, S0 + 1800 + 300) },
      { diffPHID: "PHID-DIFF-c", targetPHID: "PHID-HMBT-c", push: push(503, S0 + 3600 + 300) },
    ],
    T0 + 10 * MIN,
  ).book;
  return describeReviews(tracked, {
    created: new Map([
      ["PHID-DIFF-a", S0],
      ["PHID-DIFF-b", S0 + 1800],
      ["PHID-DIFF-c", S0 + 3600],
    ]),
  });
}

describe("stuckReviews", () => {
  it("lists the reviews in flight for strictly more than 2 h, oldest first, aged from their diff's creation", () => {
    expect(stuckReviews(book(), T0 + 2 * HOUR)).toEqual([]);
    expect(stuckReviews(book(), T0 + 2 * HOUR + 1000)).toEqual([{ revision: "D101", diff: "PHID-DIFF-a", tryPushId: 501, ageSeconds: 7201 }]);
    expect(stuckReviews(book(), T0 + 3 * HOUR + 15 * MIN)).toEqual([
      { revision: "D101", diff: "PHID-DIFF-a", tryPushId: 501, ageSeconds: 11700 },
      { revision: "D102", diff: "PHID-DIFF-b", tryPushId: 502, ageSeconds: 9900 },
      { revision: null, diff: "PHID-DIFF-c", tryPushId: 503, ageSeconds: 8100 },
    ]);
  });

  it("agrees with phabmon_reviews_stuck and phabmon_oldest_review_in_flight_seconds", () => {
    for (const at of [T0 + 2 * HOUR, T0 + 2 * HOUR + 1000, T0 + 150 * MIN, T0 + 4 * HOUR]) {
      const summary = inFlightSummary(book(), at);
      const stuck = stuckReviews(book(), at);
      expect(stuck.length).toBe(summary.stuck);
      if (stuck[0]) expect(stuck[0].ageSeconds).toBe(summary.oldestSeconds);
    }
  });

  it("ages a review whose diff's creation is not known yet from when it was first seen, as the gauges do", () => {
    const undated = trackTryPushes(EMPTY_BOOK, [{ diffPHID: "PHID-DIFF-u", revisionId: 7, push: push(9, S0) }], T0).book;
    expect(stuckReviews(undated, T0 + 2 * HOUR + 5 * MIN)).toEqual([{ revision: "D7", diff: "PHID-DIFF-u", tryPushId: 9, ageSeconds: 7500 }]);
  });
});

/** The checks of a process as crossedStuck sees them: the book at each check, what was said before. */
function checks(steps: ReadonlyArray<{ book: ReviewBook; at: number; polled?: boolean }>): string[][] {
  let said: ReadonlySet<string> = new Set();
  return steps.map(({ book: b, at, polled }) => {
    const next = crossedStuck(b, said, at, polled ?? true);
    said = next.said;
    return next.crossed.map((s) => s.diff);
  });
}

describe("crossedStuck", () => {
  it("says each review once, at the first check after it crosses 2 h, and not again at the next checks", () => {
    const b = book();
    const at = [T0 + 115 * MIN, T0 + 120 * MIN, T0 + 125 * MIN, T0 + 130 * MIN, T0 + 155 * MIN, T0 + 160 * MIN, T0 + 185 * MIN];
    expect(checks(at.map((t) => ({ book: b, at: t })))).toEqual([[], [], ["PHID-DIFF-a"], [], ["PHID-DIFF-b"], [], ["PHID-DIFF-c"]]);
  });

  it("says every review already over 2 h at the first check of a process, once", () => {
    const b = book();
    expect(
      checks([
        { book: b, at: T0 + 4 * HOUR },
        { book: b, at: T0 + 4 * HOUR + 5 * MIN },
      ]),
    ).toEqual([["PHID-DIFF-a", "PHID-DIFF-b", "PHID-DIFF-c"], []]);
  });

  it("never says a review that got its result before 2 h", () => {
    const b = book();
    const finished = finishReviews(b, new Map([["PHID-DIFF-a", { state: "passed" as const, completedAt: S0 + 7000 }]]), T0 + 118 * MIN).book;
    const steps = [T0 + 115 * MIN, T0 + 120 * MIN, T0 + 125 * MIN, T0 + 155 * MIN].map((at, i) => ({ book: i === 0 ? b : finished, at }));
    expect(checks(steps)).toEqual([[], [], [], ["PHID-DIFF-b"]]);
  });

  it("says nothing while the targets could not be polled (the review may have finished), and says it at the next poll", () => {
    const b = book();
    expect(
      checks([
        { book: b, at: T0 + 115 * MIN },
        { book: b, at: T0 + 125 * MIN, polled: false },
        { book: b, at: T0 + 130 * MIN },
        { book: b, at: T0 + 135 * MIN },
      ]),
    ).toEqual([[], [], ["PHID-DIFF-a"], []]);
  });

  it("forgets a review once it is no longer in flight, so what it remembers is bounded by the book", () => {
    const b = book();
    const said = crossedStuck(b, new Set(), T0 + 4 * HOUR, true).said;
    const finished = finishReviews(b, new Map([["PHID-DIFF-a", { state: "failed" as const, completedAt: S0 + 14000 }]]), T0 + 4 * HOUR).book;
    expect([...crossedStuck(finished, said, T0 + 4 * HOUR + 5 * MIN, true).said].sort()).toEqual(["PHID-DIFF-b", "PHID-DIFF-c"]);
    expect([...crossedStuck(finished, said, T0 + 4 * HOUR + 5 * MIN, false).said].sort()).toEqual(["PHID-DIFF-b", "PHID-DIFF-c"]);
  });

  it("says a review read back at start-up that is already over 2 h", () => {
    const back = recoverReviews(
      EMPTY_BOOK,
      [{ diffPHID: "PHID-DIFF-r", diffCreated: S0, targetPHID: "PHID-HMBT-r", revisionId: 55, push: push(77, S0 + 60) }],
      T0 + 3 * HOUR,
    ).book;
    expect(crossedStuck(back, new Set(), T0 + 3 * HOUR, true).crossed).toEqual([{ revision: "D55", diff: "PHID-DIFF-r", tryPushId: 77, ageSeconds: 10800 }]);
  });
});

describe("stuckNotes", () => {
  it("is one warn line per review, with the fields of its /status entry", () => {
    expect(stuckNotes([{ revision: "D101", diff: "PHID-DIFF-a", tryPushId: 501, ageSeconds: 7201 }])).toEqual([
      { level: "warn", msg: STUCK_MESSAGE, fields: { revision: "D101", diff: "PHID-DIFF-a", tryPushId: 501, ageSeconds: 7201 } },
    ]);
    expect(STUCK_MESSAGE).toBe("review in flight for over 2 h");
  });
});

describe("pipeline.stuck in /status", () => {
  const view = { book: book(), whole: true, polledAt: T0 + 3 * HOUR, lastCheckAt: T0 + 3 * HOUR, lastSuccessAt: T0 + 3 * HOUR };
  const STALE = 15 * MIN;

  it("lists them while the reviews in flight are known, [] when none is stuck", () => {
    const at = T0 + 3 * HOUR + 15 * MIN;
    expect(pipelineSection({ ...view, polledAt: at }, at, STALE)).toMatchObject({
      reviewsInFlight: 3,
      oldestReviewSeconds: 11700,
      stuck: [
        { revision: "D101", diff: "PHID-DIFF-a", tryPushId: 501, ageSeconds: 11700 },
        { revision: "D102", diff: "PHID-DIFF-b", tryPushId: 502, ageSeconds: 9900 },
        { revision: null, diff: "PHID-DIFF-c", tryPushId: 503, ageSeconds: 8100 },
      ],
    });
    expect(pipelineSection({ ...view, polledAt: T0 + HOUR }, T0 + HOUR, STALE).stuck).toEqual([]);
  });

  it("is null, not [], while the service does not know: a partial view, or a stale one", () => {
    expect(pipelineSection({ ...view, whole: false }, T0 + 3 * HOUR, STALE).stuck).toBeNull();
    expect(pipelineSection(view, T0 + 3 * HOUR + STALE + 1, STALE).stuck).toBeNull();
  });
});
