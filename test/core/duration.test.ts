import { describe, expect, it } from "vitest";
import { humanDuration, humanSuffix } from "../../src/core/duration.ts";

describe("humanDuration", () => {
  it("gives the two largest units, whole, and drops a zero second unit", () => {
    expect(humanDuration(312)).toBe("5 min 12 s");
    expect(humanDuration(45)).toBe("45 s");
    expect(humanDuration(3600)).toBe("1 h");
    expect(humanDuration(3 * 3600 + 61)).toBe("3 h 1 min");
    expect(humanDuration(2 * 86_400 + 7200 + 5)).toBe("2 d 2 h");
    expect(humanDuration(86_400 + 59)).toBe("1 d");
    expect(humanDuration(0)).toBe("0 s");
    expect(humanDuration(Number.NaN)).toBe("unknown");
  });

  it("is added after a number of seconds only from a minute up", () => {
    expect(humanSuffix(312)).toBe(" (5 min 12 s)");
    expect(humanSuffix(59)).toBe("");
    expect(humanSuffix(Number.NaN)).toBe("");
  });
});
