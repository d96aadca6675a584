import { describe, expect, it } from "vitest";
import { pushIdRanges, walkPushes } from "../../src/core/push-walk.ts";
import type { Push } from "../../src/core/hgpush-message.ts";

const push = (pushId: number): Push => ({ repository: "r", pushId, pushTime: 1000 + pushId, user: "u" });

describe("walkPushes", () => {
  const commits = new Map<number, string[] | undefined>([
    [1, ["a", "b"]],
    [2, ["c"]],
    [3, ["d"]],
    [4, []],
  ]);
  const commitsOf = (p: Push) => (commits.has(p.pushId) ? { changesets: commits.get(p.pushId) } : undefined);

  it("verifies every push when every commit is mirrored; an empty (obsolete) push counts as mirrored", () => {
    const result = walkPushes([push(1), push(2), push(3), push(4)], commitsOf, () => true);
    expect(result.verified.map((p) => p.pushId)).toEqual([1, 2, 3, 4]);
    expect(result.stoppedAt).toBeUndefined();
  });

  it("stops at the first push with a missing commit, even when later pushes are mirrored", () => {
    const result = walkPushes([push(1), push(2), push(3)], commitsOf, (n) => n !== "c");
    expect(result.verified.map((p) => p.pushId)).toEqual([1]);
    expect(result.stoppedAt).toEqual({ push: push(2), reason: { kind: "missing", node: "c" } });
  });

  it("stops at a push the pushlog does not list", () => {
    commits.set(5, undefined);
    const result = walkPushes([push(5), push(1)], commitsOf, () => true);
    expect(result.verified).toEqual([]);
    expect(result.stoppedAt?.reason).toEqual({ kind: "not_in_pushlog" });
  });

  it("stops where it knows nothing (an upstream failure), without calling it missing", () => {
    const result = walkPushes([push(1), push(2)], commitsOf, (n) => (n === "c" ? undefined : true));
    expect(result.verified.map((p) => p.pushId)).toEqual([1]);
    expect(result.stoppedAt?.reason).toEqual({ kind: "unknown" });
    expect(walkPushes([push(9)], commitsOf, () => true).stoppedAt?.reason).toEqual({ kind: "unknown" });
  });
});

describe("pushIdRanges", () => {
  it("makes one range per run of consecutive ids, startID exclusive and endID inclusive", () => {
    expect(pushIdRanges([5, 3, 4, 9, 10, 12], 200)).toEqual([
      { startId: 2, endId: 5 },
      { startId: 8, endId: 10 },
      { startId: 11, endId: 12 },
    ]);
  });

  it("slices long runs and ignores repeated ids", () => {
    expect(pushIdRanges([1, 2, 2, 3, 4, 5], 2)).toEqual([
      { startId: 0, endId: 2 },
      { startId: 2, endId: 4 },
      { startId: 4, endId: 5 },
    ]);
    expect(pushIdRanges([], 10)).toEqual([]);
  });

  it("needs 25 requests for 5,000 consecutive pushes in slices of 200", () => {
    expect(
      pushIdRanges(
        Array.from({ length: 5000 }, (_, i) => i + 1),
        200,
      ),
    ).toHaveLength(25);
  });
});
