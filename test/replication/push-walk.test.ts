import { describe, expect, it } from "vitest";
import { pushIdRanges } from "../../src/pushlog/push-id-ranges.ts";
import { walkPushes, walkStop, type PushCommits } from "../../src/replication/push-walk.ts";
import type { Push } from "../../src/hgpush/hgpush-message.ts";

const push = (pushId: number): Push => ({ repository: "r", pushId, pushTime: 1000 + pushId, user: "u" });

describe("walkStop", () => {
  it("stops where walkPushes stops, and a walk resumed from each stop as more is learnt ends where a walk from the start does", () => {
    const pushes = Array.from({ length: 12 }, (_, i) => push(i + 1));
    const commits = new Map<number, PushCommits>();
    const mirrored = new Map<string, boolean>();
    const commitsOf = (p: Push) => commits.get(p.pushId);
    // Learnt three pushes at a time, as a check learns a pushlog range and the mirror's answers for it;
    // push 5 is given up, push 11's commit is missing.
    let resumeAt = 0;
    for (let learnt = 3; learnt <= 12; learnt += 3) {
      for (let id = learnt - 2; id <= learnt; id++) {
        commits.set(id, id === 5 ? { changesets: undefined, givenUp: "stripped" } : { changesets: [`n${id}`] });
        mirrored.set(`n${id}`, id !== 11);
      }
      const fromStart = walkPushes(pushes, commitsOf, (n) => mirrored.get(n));
      const resumed = walkStop(pushes, commitsOf, (n) => mirrored.get(n), resumeAt);
      expect(resumed?.stoppedAt).toEqual(fromStart.stoppedAt);
      expect(walkStop(pushes, commitsOf, (n) => mirrored.get(n))).toEqual(resumed);
      resumeAt = resumed?.index ?? pushes.length;
    }
    expect(walkStop(pushes, commitsOf, (n) => mirrored.get(n), resumeAt)).toEqual({
      index: 10,
      stoppedAt: { push: push(11), reason: { kind: "missing", node: "n11" } },
    });
  });

  it("is undefined when every push from `from` on is verified or given up", () => {
    expect(
      walkStop(
        [push(1), push(2)],
        () => ({ changesets: [] }),
        () => true,
      ),
    ).toBeUndefined();
  });
});

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
