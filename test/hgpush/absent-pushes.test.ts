import { describe, expect, it } from "vitest";
import { MAX_NOT_REPLICATED_CHECKS, absenceAfterCheck, absentPushFate } from "../../src/hgpush/absent-pushes.ts";

describe("absentPushFate", () => {
  it("gives up at once on an id at or below lastpushid: json-pushes left it out, so it was stripped", () => {
    expect(absentPushFate(2, 3, 1)).toEqual({ wait: false, reason: "stripped" });
    expect(absentPushFate(3, 3, 1)).toEqual({ wait: false, reason: "stripped" });
  });

  it("waits for an id above lastpushid (not replicated yet) for at most 3 checks", () => {
    expect(MAX_NOT_REPLICATED_CHECKS).toBe(3);
    expect(absentPushFate(4, 3, 1)).toEqual({ wait: true });
    expect(absentPushFate(4, 3, 2)).toEqual({ wait: true });
    expect(absentPushFate(4, 3, 3)).toEqual({ wait: false, reason: "not_replicated" });
  });
});

describe("absenceAfterCheck", () => {
  it("counts the pushes still waited for one more, and forgets every other", () => {
    const after = absenceAfterCheck(
      new Map([
        [4, 1],
        [5, 2],
      ]),
      [4, 6],
    );
    expect([...after]).toEqual([
      [4, 2],
      [6, 1],
    ]);
  });
});
