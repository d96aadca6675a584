import { describe, expect, it } from "vitest";
import { LATEST_UNIX_TIME, isUnixTime, timedPush } from "../../src/core/push-time.ts";
import { listedForWalk } from "../../src/replication/mirror-commits.ts";

const push = (pushTime: number, seenAt?: number) => ({ repository: "r", pushId: 1, pushTime, user: "u", ...(seenAt === undefined ? {} : { seenAt }) });
const NOW = 1_800_000_000;

describe("times read from upstream", () => {
  it("bounds a Unix time as message times are: 0 to ten digits, finite", () => {
    expect([0, NOW, LATEST_UNIX_TIME].map(isUnixTime)).toEqual([true, true, true]);
    expect([-1, LATEST_UNIX_TIME + 1, 1e13, Number.NaN, Number.POSITIVE_INFINITY, "1"].map(isUnixTime)).toEqual([false, false, false, false, false, false]);
    // Every time that passes can be written as a date.
    expect(() => new Date(LATEST_UNIX_TIME * 1000).toISOString()).not.toThrow();
  });

  it("counts a push from the pushlog's date, or from when it was first seen when that date is in the future", () => {
    expect(timedPush(push(NOW - 60), NOW - 50, NOW).pushTime).toBe(NOW - 50);
    expect(timedPush(push(NOW - 60), undefined, NOW).pushTime).toBe(NOW - 60);
    expect(timedPush(push(NOW - 60, NOW - 600), NOW + 86_400, NOW).pushTime).toBe(NOW - 600);
    expect(timedPush(push(NOW + 3600), undefined, NOW).pushTime).toBe(NOW);
  });

  it("sets a listed push with an impossible date aside as bad_time, not asking the mirror", () => {
    expect(listedForWalk({ changesets: ["a"], pushTime: 1e13 }, "hg")).toEqual({ listed: { changesets: [], givenUp: "bad_time" }, nullGit: 0 });
    expect(listedForWalk({ changesets: ["a"], pushTime: NOW }, "hg")).toEqual({ listed: { changesets: ["a"], pushTime: NOW }, nullGit: 0 });
  });
});
