import { describe, expect, it } from "vitest";
import {
  EMPTY_BOOK,
  describeReviews,
  expireReviews,
  finishReviews,
  inFlightSummary,
  recoverReviews,
  takeLatencies,
  targetState,
  trackTryPushes,
  type BuildTarget,
} from "../../src/core/reviews.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0); // ms
const S0 = T0 / 1000;
const HOUR = 3600_000;
const push = (pushId: number, pushTime: number) => ({ pushId, pushTime, node: String(pushId).padStart(40, "0") });
const target = (status: string, completed: number | null, generation = 1, build = "PHID-HMBD-1"): BuildTarget => ({
  buildPHID: build,
  status,
  epochCompleted: completed,
  buildGeneration: generation,
});

describe("targetState", () => {
  it("is in flight while any current target waits, and unknown targets count as in flight", () => {
    expect(targetState([])).toEqual({ state: "in_flight" });
    expect(targetState([target("target/waiting", null)])).toEqual({ state: "in_flight" });
    expect(targetState([target("target/passed", S0), target("target/building", null, 1, "PHID-HMBD-2")])).toEqual({ state: "in_flight" });
  });

  it("gives passed, failed or aborted with the last completion time", () => {
    expect(targetState([target("target/passed", S0 + 5), target("target/passed", S0 + 9, 1, "PHID-HMBD-2")])).toEqual({ state: "passed", completedAt: S0 + 9 });
    expect(targetState([target("target/passed", S0), target("target/failed", S0 + 3, 1, "PHID-HMBD-2")])).toEqual({ state: "failed", completedAt: S0 + 3 });
    expect(targetState([target("target/aborted", S0)])).toEqual({ state: "aborted", completedAt: S0 });
  });

  it("reads only the latest generation of a restarted build", () => {
    expect(targetState([target("target/failed", S0, 1), target("target/waiting", null, 2)])).toEqual({ state: "in_flight" });
    expect(targetState([target("target/failed", S0, 1), target("target/passed", S0 + 60, 2)])).toEqual({ state: "passed", completedAt: S0 + 60 });
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
    expect(inFlightSummary(taken.book, T0 + 600_000)).toEqual({ count: 1, oldestSeconds: 600 });

    const done = finishReviews(taken.book, new Map([["PHID-DIFF-a", { state: "passed", completedAt: S0 + 840 } as const]]), T0 + 900_000);
    expect(done.finished.map((f) => [f.outcome, f.seconds])).toEqual([["passed", 840]]);
    expect(inFlightSummary(done.book, T0 + 900_000)).toEqual({ count: 0, oldestSeconds: 0 });
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
    const { book } = trackTryPushes(EMPTY_BOOK, [{ diffPHID: "PHID-DIFF-a", push: push(1, S0) }, { diffPHID: "PHID-DIFF-b", push: push(2, S0) }], T0);
    const states = new Map([
      ["PHID-DIFF-a", { state: "failed", completedAt: S0 + 10 } as const],
      ["PHID-DIFF-b", { state: "aborted", completedAt: S0 + 10 } as const],
    ]);
    const early = finishReviews(book, states, T0);
    expect(early.finished).toEqual([]);
    expect(early.book.inFlight.size).toBe(2);
    const described = describeReviews(book, { created: new Map([["PHID-DIFF-a", S0 - 50], ["PHID-DIFF-b", S0 - 50]]) });
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

  it("recovers waiting reviews once, and attaches a Try push read later", () => {
    const found = [{ diffPHID: "PHID-DIFF-r", diffCreated: S0 - 100, buildPHIDs: ["PHID-HMBD-r"] }];
    const first = recoverReviews(EMPTY_BOOK, found, T0);
    expect(first.recovered).toBe(1);
    expect(recoverReviews(first.book, found, T0).recovered).toBe(0);
    const pushed = trackTryPushes(first.book, [{ diffPHID: "PHID-DIFF-r", push: push(5, S0 - 40) }], T0);
    expect(pushed.started).toBe(0);
    expect(takeLatencies(pushed.book).latencies).toEqual([{ diffPHID: "PHID-DIFF-r", seconds: 60 }]);
    expect(inFlightSummary(pushed.book, T0)).toEqual({ count: 1, oldestSeconds: 100 });
  });
});
