import { describe, expect, it } from "vitest";
import type { Push } from "../../src/hgpush/hgpush-message.ts";
import { lagSeconds } from "../../src/run/lag.ts";
import { walkPushes } from "../../src/replication/push-walk.ts";
import {
  NEW_WATCH,
  pushesToWalk,
  readSlice,
  settledIds,
  walkNeedsMore,
  watchAfterCheck,
  watchAfterGapSearch,
  watchAfterVerification,
  type RepositoryWatch,
} from "../../src/replication/replication-state.ts";

// Fixed instants: a push at T (Unix seconds) and checks 5 minutes apart.
const T = 1_764_000_000;
const CHECK_1 = (T + 300) * 1000;
const CHECK_2 = (T + 600) * 1000;
const STALE_AFTER_MS = 15 * 60_000;

const push = (pushId: number, pushTime = T + pushId): Push => ({ repository: "integration/autoland", pushId, pushTime, user: "a@example.com" });
const slice = (listed: Record<number, string[]>, lastPushId: number) => ({
  pushes: new Map(Object.entries(listed).map(([id, changesets]) => [Number(id), { changesets, pushTime: T + Number(id) }])),
  lastPushId,
});

describe("replication state of one repository", () => {
  it("holds what the gap search found, and walks it with the messages' pushes, by id", () => {
    const watch = watchAfterGapSearch(NEW_WATCH, [push(2)]);
    expect([...watch.held.keys()]).toEqual([2]);
    expect(pushesToWalk(watch, [push(3), push(1)], T).map((p) => p.pushId)).toEqual([1, 2, 3]);
    expect(watchAfterGapSearch(watch, [])).toBe(watch);
  });

  it("reads a slice: listed pushes give commits and the pushlog's date, absent ones wait or are given up", () => {
    const watch: RepositoryWatch = { ...NEW_WATCH, absences: new Map([[5, 2]]) };
    const reading = readSlice(watch, { startId: 0, endId: 5 }, slice({ 1: ["a"], 3: ["c"] }, 3));
    expect(reading.commits.get(1)).toEqual({ changesets: ["a"] });
    expect(reading.pushTimes.get(3)).toBe(T + 3);
    // 2 is at or below lastpushid 3 and absent: stripped. 4 is above it, first absence: waited for.
    expect(reading.commits.get(2)).toEqual({ changesets: undefined, givenUp: "stripped" });
    expect(reading.commits.get(4)).toEqual({ changesets: undefined });
    // 5 was absent for two checks already: the third gives it up.
    expect(reading.commits.get(5)).toEqual({ changesets: undefined, givenUp: "not_replicated" });
    expect(reading.waiting).toEqual([4]);
    expect(reading.highestListed).toBe(3);
  });

  it("the walk needs the next range only while it stopped for want of data", () => {
    const pushes = [push(1), push(2)];
    const partial = walkPushes(
      pushes,
      (p) => (p.pushId === 1 ? { changesets: ["a"] } : undefined),
      () => true,
    );
    expect(walkNeedsMore(partial)).toBe(true);
    const missing = walkPushes(
      pushes,
      () => ({ changesets: ["a"] }),
      () => false,
    );
    expect(walkNeedsMore(missing)).toBe(false);
    const notListed = walkPushes(
      pushes,
      () => ({ changesets: undefined }),
      () => true,
    );
    expect(walkNeedsMore(notListed)).toBe(false);
    const all = walkPushes(
      pushes,
      () => ({ changesets: ["a"] }),
      () => true,
    );
    expect(walkNeedsMore(all)).toBe(false);
  });

  it("after verification: verified and given-up pushes are let go, the rest held, absences counted", () => {
    const before: RepositoryWatch = { ...NEW_WATCH, held: new Map([[1, push(1)]]), lastSeen: 1 };
    const after = watchAfterVerification(before, {
      pushes: [push(1), push(2), push(3), push(4)],
      verified: [push(1)],
      givenUp: [{ push: push(2), reason: "stripped" }],
      waiting: [4],
      highestListed: 3,
    });
    expect([...after.held.keys()].sort()).toEqual([3, 4]);
    expect([...after.absences]).toEqual([[4, 1]]);
    expect(after.lastSeen).toBe(3);
    expect(before.held.size).toBe(1);
    expect(settledIds({ verified: [push(1)], givenUp: [{ push: push(2), reason: "stripped" }] })).toEqual(new Set([1, 2]));
  });

  it("a push id the pushlog did not list never moves the last push id seen", () => {
    const before: RepositoryWatch = { ...NEW_WATCH, lastSeen: 10 };
    const after = watchAfterVerification(before, { pushes: [push(7777)], verified: [], givenUp: [], waiting: [7777], highestListed: undefined });
    expect(after.lastSeen).toBe(10);
    expect(watchAfterVerification(NEW_WATCH, { pushes: [], verified: [], givenUp: [], waiting: [], highestListed: undefined }).lastSeen).toBeUndefined();
  });

  it("after the check: the lag state moves, and the lag follows at any instant", () => {
    const lagging = watchAfterCheck(NEW_WATCH, { ok: true, unverified: [push(1, T)], atMs: CHECK_1 });
    expect(lagSeconds(lagging.state, CHECK_1, STALE_AFTER_MS)).toBe(300);
    expect(lagSeconds(lagging.state, CHECK_2, STALE_AFTER_MS)).toBe(600);
    const caughtUp = watchAfterCheck(lagging, { ok: true, unverified: [], atMs: CHECK_2 });
    expect(lagSeconds(caughtUp.state, CHECK_2, STALE_AFTER_MS)).toBe(0);
    // A failed check never turns a known lag into a zero.
    const failed = watchAfterCheck(lagging, { ok: false, error: "pushlog down", unverified: undefined, atMs: CHECK_2 });
    expect(lagSeconds(failed.state, CHECK_2, STALE_AFTER_MS)).toBe(600);
    expect(failed.state.lastError).toBe("pushlog down");
  });
});
