import { describe, expect, it } from "vitest";
import { MAX_GAP_PUSHES, idsAfter, mergePushes, missingPushIds } from "../../src/hgpush/pushlog-gaps.ts";
import type { Push } from "../../src/hgpush/hgpush-message.ts";

const push = (pushId: number, pushTime = pushId): Push => ({ repository: "r", pushId, pushTime, user: "u" });

describe("missingPushIds", () => {
  it("finds the holes between the last push seen and the newest one delivered", () => {
    expect(missingPushIds(10, [11, 14, 12])).toEqual([13]);
    expect(missingPushIds(10, [15])).toEqual([11, 12, 13, 14]);
  });

  it("finds nothing before anything was seen, or when nothing is newer", () => {
    expect(missingPushIds(undefined, [5, 9])).toEqual([]);
    expect(missingPushIds(10, [])).toEqual([]);
    expect(missingPushIds(10, [3, 10])).toEqual([]);
  });

  it("is bounded", () => {
    expect(missingPushIds(0, [1e9])).toHaveLength(MAX_GAP_PUSHES);
  });
});

describe("idsAfter", () => {
  it("lists the ids after one up to the pushlog's last, bounded", () => {
    expect(idsAfter(7, 10)).toEqual([8, 9, 10]);
    expect(idsAfter(10, 10)).toEqual([]);
    expect(idsAfter(0, 1e9)).toHaveLength(MAX_GAP_PUSHES);
  });
});

describe("a queue of 200,000 pushes", () => {
  it("finds the highest id without overflowing the call stack (no Math.max(...ids))", () => {
    const present = Array.from({ length: 200_000 }, (_, i) => i + 2);
    expect(missingPushIds(0, present)).toEqual([1]);
  });
});

describe("mergePushes", () => {
  it("keeps one push per id, ordered, preferring the one from a message, and when each was first seen", () => {
    const held = { ...push(3, 99), seenAt: 500 };
    expect(mergePushes([push(3, 30), push(1)], [push(2), held], 900)).toEqual([{ ...push(1), seenAt: 900 }, push(2), { ...push(3, 30), seenAt: 500 }]);
  });
});
