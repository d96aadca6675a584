import { describe, expect, it } from "vitest";
import { INITIAL_STATE, lagSeconds, replicationDelays, stateAfterCheck } from "../../src/run/lag.ts";
import type { Push } from "../../src/hgpush/hgpush-message.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0); // a fixed instant, ms
const MIN = 60_000;
const STALE = 15 * MIN;
const push = (pushId: number, pushTime: number): Push => ({ repository: "r", pushId, pushTime, user: "u" });

describe("lagSeconds", () => {
  it("is unknown (NaN) before the first check", () => {
    expect(lagSeconds(INITIAL_STATE, T0, STALE)).toBeNaN();
  });

  it("is 0 when the last check found everything mirrored, and stays 0 until the check goes stale", () => {
    const state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: T0 });
    expect(lagSeconds(state, T0, STALE)).toBe(0);
    expect(lagSeconds(state, T0 + STALE, STALE)).toBe(0);
    expect(lagSeconds(state, T0 + STALE + 1, STALE)).toBeNaN();
  });

  it("is the age of the oldest unverified push and grows between checks", () => {
    const pushTime = T0 / 1000 - 312;
    const state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [push(2, pushTime + 100), push(1, pushTime)], atMs: T0 });
    expect(lagSeconds(state, T0, STALE)).toBe(312);
    expect(lagSeconds(state, T0 + 5 * MIN, STALE)).toBe(612);
  });

  it("counts whole days: a two-day lag is 172800 s, not the seconds part of a timedelta", () => {
    const state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [push(1, T0 / 1000 - 2 * 86_400 - 1)], atMs: T0 });
    expect(lagSeconds(state, T0, STALE)).toBe(172_801);
  });

  it("is never 0 while a push is unverified, even one stamped in the future (0 says the mirror has everything)", () => {
    const state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [push(1, T0 / 1000 + 5)], atMs: T0 });
    expect(lagSeconds(state, T0, STALE)).toBe(1);
  });
});

describe("stateAfterCheck", () => {
  it("keeps the last success time on a failure, so the lag goes unknown once it is stale", () => {
    const ok = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: T0 });
    const failed = stateAfterCheck(ok, { ok: false, unverified: undefined, atMs: T0 + 5 * MIN });
    expect(failed.lastSuccessAt).toBe(T0);
    expect(lagSeconds(failed, T0 + 16 * MIN, STALE)).toBeNaN();
  });

  it("turns a zero into a lag when a failed check leaves a push unverified, never the other way", () => {
    const ok = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: T0 });
    const failed = stateAfterCheck(ok, { ok: false, unverified: [push(9, T0 / 1000 - 100)], atMs: T0 + MIN });
    expect(lagSeconds(failed, T0 + MIN, STALE)).toBe(160);
    const failedEmpty = stateAfterCheck(failed, { ok: false, unverified: [], atMs: T0 + 2 * MIN });
    expect(lagSeconds(failedEmpty, T0 + 2 * MIN, STALE)).toBe(220);
  });

  it("turns a zero into unknown when the latest check failed, and back once one completes", () => {
    const ok = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: T0 });
    const brokerDown = stateAfterCheck(ok, { ok: false, unverified: undefined, atMs: T0 + MIN });
    expect(lagSeconds(brokerDown, T0 + MIN, STALE)).toBeNaN();
    const hgDown = stateAfterCheck(ok, { ok: false, unverified: [], atMs: T0 + MIN });
    expect(lagSeconds(hgDown, T0 + MIN, STALE)).toBeNaN();
    const back = stateAfterCheck(brokerDown, { ok: true, unverified: [], atMs: T0 + 2 * MIN });
    expect(lagSeconds(back, T0 + 2 * MIN, STALE)).toBe(0);
  });

  it("reports no zero while disconnected from Pulse, but keeps a known lag", () => {
    const ok = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [], atMs: T0 });
    expect(lagSeconds(ok, T0, STALE, false)).toBeNaN();
    const lagging = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [push(1, T0 / 1000 - 50)], atMs: T0 });
    expect(lagSeconds(lagging, T0, STALE, false)).toBe(50);
  });

  it("counts pending pushes", () => {
    const state = stateAfterCheck(INITIAL_STATE, { ok: true, unverified: [push(1, 1), push(2, 2)], atMs: T0 });
    expect(state.pendingPushes).toBe(2);
  });
});

describe("replicationDelays", () => {
  it("is the time from each push to the verifying check", () => {
    expect(replicationDelays([push(1, T0 / 1000 - 90), push(2, T0 / 1000 + 3)], T0)).toEqual([90, 0]);
  });
});
