import { describe, expect, it } from "vitest";
import {
  EMPTY_BOOK,
  describeReviews,
  expireReviews,
  finishReviews,
  inFlightSummary,
  recoverReviews,
  takeLatencies,
  reviewState,
  trackTryPushes,
} from "../../src/review/reviews.ts";
import type { BuildTarget } from "../../src/phabricator/review-lookup.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0); // ms
const S0 = T0 / 1000;
const HOUR = 3600_000;
const push = (pushId: number, pushTime: number) => ({ pushId, pushTime, node: String(pushId).padStart(40, "0") });
const target = (status: string, completed: number | null, generation = 1, options: { build?: string; step?: string; phid?: string } = {}): BuildTarget => ({
  phid: options.phid ?? `PHID-HMBT-${generation}${options.step ?? "bot"}`,
  buildPHID: options.build ?? "PHID-HMBD-1",
  stepPHID: options.step ?? "PHID-HMCS-bot",
  status,
  epochCompleted: completed,
  buildGeneration: generation,
});

describe("reviewState", () => {
  it("is in flight while the bot's target waits, and ends with its result and completion time", () => {
    expect(reviewState(target("target/waiting", null), [], "building", S0)).toEqual({ state: "in_flight" });
    expect(reviewState(target("target/passed", S0 + 9), [], "passed", S0 + 20)).toEqual({ state: "passed", completedAt: S0 + 9 });
    expect(reviewState(target("target/failed", S0 + 3), [], "failed", S0 + 20)).toEqual({ state: "failed", completedAt: S0 + 3 });
    expect(reviewState(target("target/aborted", S0), [], "aborted", S0 + 20)).toEqual({ state: "aborted", completedAt: S0 });
  });

  it("ends when the build is aborted or errors, though its target still says waiting (Phabricator aborts only the build)", () => {
    for (const status of ["aborted", "error", "deadlocked"]) {
      expect(reviewState(target("target/waiting", null), [], status, S0)).toEqual({ state: "aborted", completedAt: S0 });
    }
    expect(reviewState(target("target/waiting", null), [], "paused", S0)).toEqual({ state: "in_flight" });
  });

  it("ignores other steps' targets of the same build, and follows the newest generation of its own step", () => {
    const own = target("target/waiting", null, 1);
    const otherStep = target("target/failed", S0, 1, { step: "PHID-HMCS-lint" });
    expect(reviewState(own, [own, otherStep], "building", S0)).toEqual({ state: "in_flight" });
    const old = target("target/failed", S0, 1);
    expect(reviewState(old, [old, target("target/waiting", null, 2)], "building", S0)).toEqual({ state: "in_flight" });
    expect(reviewState(old, [old, target("target/passed", S0 + 60, 2)], "passed", S0 + 90)).toEqual({ state: "passed", completedAt: S0 + 60 });
  });
});

describe("the review book", () => {
  it("measures Try push latency once both ends are known, and review time when the target ends", () => {
    const tracked = trackTryPushes(EMPTY_BOOK, [{ diffPHID: "PHID-DIFF-a", revisionId: 7, push: push(10, S0 + 300) }], T0);
    expect(tracked.started).toBe(1);
    let book = tracked.book;
    expect(takeLatencies(book).latencies).toEqual([]); // creation time not known yet
    book = describeReviews(book, { created: new Map([["PHID-DIFF-a", S0]]) });
    const taken = takeLatencies(book);
    expect(taken.latencies).toEqual([{ diffPHID: "PHID-DIFF-a", seconds: 300 }]);
    expect(takeLatencies(taken.book).latencies).toEqual([]); // measured once
    expect(inFlightSummary(taken.book, T0 + 600_000)).toEqual({ count: 1, oldestSeconds: 600, stuck: 0 });
    // Stuck only past two hours from the diff's creation.
    expect(inFlightSummary(taken.book, (S0 + 7200) * 1000).stuck).toBe(0);
    expect(inFlightSummary(taken.book, (S0 + 7201) * 1000)).toEqual({ count: 1, oldestSeconds: 7201, stuck: 1 });

    const done = finishReviews(taken.book, new Map([["PHID-DIFF-a", { state: "passed", completedAt: S0 + 840 } as const]]), T0 + 900_000);
    expect(done.finished.map((f) => [f.outcome, f.seconds])).toEqual([["passed", 840]]);
    expect(inFlightSummary(done.book, T0 + 900_000)).toEqual({ count: 0, oldestSeconds: 0, stuck: 0 });
    // A redelivered push of a finished diff does not start it again.
    expect(trackTryPushes(done.book, [{ diffPHID: "PHID-DIFF-a", push: push(10, S0 + 300) }], T0 + HOUR)).toMatchObject({ started: 0, repeated: 1 });
  });

  it("keeps the first push of a diff pushed twice", () => {
    const first = trackTryPushes(EMPTY_BOOK, [{ diffPHID: "PHID-DIFF-a", push: push(10, S0 + 300) }], T0);
    const second = trackTryPushes(first.book, [{ diffPHID: "PHID-DIFF-a", push: push(11, S0 + 900) }], T0);
    expect(second.repeated).toBe(1);
    expect(second.book.inFlight.get("PHID-DIFF-a")?.tryPush?.pushId).toBe(10);
  });

  it("waits for the creation time before ending a review, and ends an aborted one with no measure", () => {
    const { book } = trackTryPushes(
      EMPTY_BOOK,
      [
        { diffPHID: "PHID-DIFF-a", push: push(1, S0) },
        { diffPHID: "PHID-DIFF-b", push: push(2, S0) },
      ],
      T0,
    );
    const states = new Map([
      ["PHID-DIFF-a", { state: "failed", completedAt: S0 + 10 } as const],
      ["PHID-DIFF-b", { state: "aborted", completedAt: S0 + 10 } as const],
    ]);
    const early = finishReviews(book, states, T0);
    expect(early.finished).toEqual([]);
    expect(early.book.inFlight.size).toBe(2);
    const described = describeReviews(book, {
      created: new Map([
        ["PHID-DIFF-a", S0 - 50],
        ["PHID-DIFF-b", S0 - 50],
      ]),
    });
    const later = finishReviews(described, states, T0);
    expect(later.finished.map((f) => [f.review.diffPHID, f.outcome, f.seconds])).toEqual([["PHID-DIFF-a", "failed", 60]]);
    expect(later.aborted.map((r) => r.diffPHID)).toEqual(["PHID-DIFF-b"]);
    expect(later.book.inFlight.size).toBe(0);
  });

  it("drops what has been in flight for more than 24 h, and is bounded in size", () => {
    const { book } = trackTryPushes(EMPTY_BOOK, [{ diffPHID: "PHID-DIFF-old", push: push(1, S0) }], T0);
    const newer = trackTryPushes(book, [{ diffPHID: "PHID-DIFF-new", push: push(2, S0) }], T0 + 2 * HOUR).book;
    const { book: after, expired } = expireReviews(newer, T0 + 24 * HOUR + 1);
    expect(expired.map((r) => r.diffPHID)).toEqual(["PHID-DIFF-old"]);
    expect([...after.inFlight.keys()]).toEqual(["PHID-DIFF-new"]);
    // Finished or dropped diffs are forgotten 48 h later.
    expect(after.done.has("PHID-DIFF-old")).toBe(true);
    expect(expireReviews(after, T0 + 24 * HOUR + 48 * HOUR + 2).book.done.has("PHID-DIFF-old")).toBe(false);

    const limits = { maxInFlight: 3, maxAgeMs: 24 * HOUR, rememberDoneMs: 48 * HOUR };
    const many = Array.from({ length: 5 }, (_, i) => ({ diffPHID: `PHID-DIFF-${i}`, push: push(i + 1, S0) }));
    let full = EMPTY_BOOK;
    const dropped: string[] = [];
    for (const [i, p] of many.entries()) {
      const r = trackTryPushes(full, [p], T0 + i, limits);
      full = r.book;
      dropped.push(...r.overflow.map((o) => o.diffPHID));
    }
    expect(full.inFlight.size).toBe(3);
    expect(dropped).toEqual(["PHID-DIFF-0", "PHID-DIFF-1"]);
  });

  it("recovers waiting reviews once, and measures a recovered review's Try push when its message then arrives (#27 bug 4)", () => {
    const found = [{ diffPHID: "PHID-DIFF-r", diffCreated: S0 - 100, targetPHID: "PHID-HMBT-r", push: push(5, S0 - 40) }];
    const first = recoverReviews(EMPTY_BOOK, found, T0);
    expect(first.recovered).toBe(1);
    expect(recoverReviews(first.book, found, T0).recovered).toBe(0);
    // Its message was still on the queue, so nobody measured it: a message is acked only once measured.
    const pushed = trackTryPushes(first.book, [{ diffPHID: "PHID-DIFF-r", push: push(5, S0 - 40) }], T0);
    expect(pushed.started).toBe(0);
    expect(takeLatencies(pushed.book).latencies).toEqual([{ diffPHID: "PHID-DIFF-r", seconds: 60 }]);
    // Once only: the same push read again (a redelivery) is not measured twice.
    const again = trackTryPushes(takeLatencies(pushed.book).book, [{ diffPHID: "PHID-DIFF-r", push: push(5, S0 - 40) }], T0);
    expect(takeLatencies(again.book).latencies).toEqual([]);
    expect(inFlightSummary(pushed.book, T0)).toEqual({ count: 1, oldestSeconds: 100, stuck: 0 });
  });
});
