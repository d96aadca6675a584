// The Git → hg sync state over fixed instants.
import { describe, expect, it } from "vitest";
import {
  NEW_BRANCH,
  branchAfterCheck,
  branchAfterLag,
  branchAfterMessages,
  branchAfterMirror,
  branchAfterPushlog,
  decided,
  hgRangeToRead,
  HG_LOOKBACK_PUSHES,
} from "../../src/git-sync/branch-sync.ts";
import { lagSeconds } from "../../src/run/lag.ts";
import { lagPoint } from "../../src/run/lag-history.ts";
import { syncSection } from "../../src/git-sync/status.ts";
import type { GitPush } from "../../src/git-sync/lando-message.ts";

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const S0 = T0 / 1000;
const STALE = 15 * 60_000;
const sha = (n: number) => n.toString(16).padStart(40, "0");
const git = (pushId: number, pushTime: number): GitPush => ({ branch: "autoland", pushId, pushTime, head: sha(pushId), user: "lando" });
const REPO = "integration/autoland";

describe("the Git → hg sync of a branch", () => {
  it("measures a Git push synced 90 s later as 90 s, and the lag is 0 after", () => {
    const { branch, arrived } = branchAfterMessages(NEW_BRANCH, [git(10, S0 - 300)], { mirrored: false });
    expect(arrived).toBe(1);
    const read = branchAfterPushlog(branch, [{ pushId: 500, pushTime: S0 - 210, gitChangesets: [sha(9), null, sha(10)] }], 500);
    expect(read.synced).toEqual([{ push: git(10, S0 - 300), hgPushId: 500, delaySeconds: 90 }]);
    const after = branchAfterCheck(read.branch, { ok: true, read: true, atMs: T0, repository: REPO });
    expect(lagSeconds(after.state, T0, STALE)).toBe(0);
    expect(decided(after, 10)).toBe(true);
  });

  it("an unsynced push makes the lag the age of the oldest, growing between checks, and keeps it pending", () => {
    const { branch } = branchAfterMessages(NEW_BRANCH, [git(11, S0 - 120), git(12, S0 - 60)], { mirrored: false });
    const read = branchAfterPushlog(branch, [{ pushId: 501, pushTime: S0 - 100, gitChangesets: [sha(999)] }], 501);
    expect(read.synced).toEqual([]);
    const after = branchAfterCheck(read.branch, { ok: true, read: true, atMs: T0, repository: REPO });
    expect(lagSeconds(after.state, T0, STALE)).toBe(120);
    expect(lagSeconds(after.state, T0 + 60_000, STALE)).toBe(180);
    expect(decided(after, 11)).toBe(false);
  });

  it("a later push found synced settles the earlier ones of the branch too, without a measure for them", () => {
    const { branch } = branchAfterMessages(NEW_BRANCH, [git(20, S0 - 600), git(21, S0 - 300)], { mirrored: false });
    const read = branchAfterPushlog(branch, [{ pushId: 700, pushTime: S0 - 200, gitChangesets: [sha(21)] }], 700);
    expect(read.synced).toEqual([
      { push: git(20, S0 - 600), hgPushId: undefined, delaySeconds: undefined },
      { push: git(21, S0 - 300), hgPushId: 700, delaySeconds: 100 },
    ]);
    expect(read.branch.pending.size).toBe(0);
  });

  it("deduplicates by push id: a redelivered message adds nothing", () => {
    const once = branchAfterMessages(NEW_BRANCH, [git(30, S0)], { mirrored: true }).branch;
    const again = branchAfterMessages(once, [git(30, S0)], { mirrored: true });
    expect(again.arrived).toBe(0);
    expect(again.branch.pending.size).toBe(1);
  });

  it("reads the pushlog forward from where it stopped, and a slice back when new Git pushes arrive", () => {
    const { branch } = branchAfterMessages(NEW_BRANCH, [git(40, S0)], { mirrored: false });
    expect(hgRangeToRead(branch, 1, 1000)).toEqual({ startId: 1000 - HG_LOOKBACK_PUSHES, endId: 1000 });
    const moved = branchAfterPushlog(branch, [], 1000).branch;
    expect(hgRangeToRead(moved, 0, 1004)).toEqual({ startId: 1000, endId: 1004 });
    expect(hgRangeToRead(moved, 0, 1000)).toBeUndefined();
    expect(hgRangeToRead(NEW_BRANCH, 0, 1000)).toBeUndefined();
  });

  it("is unknown (NaN), never 0, before a check read the queue and while checks fail", () => {
    expect(lagSeconds(NEW_BRANCH.state, T0, STALE)).toBeNaN();
    const failed = branchAfterCheck(NEW_BRANCH, { ok: false, error: "pulse down", read: false, atMs: T0, repository: REPO });
    expect(lagSeconds(failed.state, T0, STALE)).toBeNaN();
  });

  it("waits for the Git mirror where the repository is checked as Git, measuring landing → mirror", () => {
    const { branch } = branchAfterMessages(NEW_BRANCH, [git(50, S0 - 400)], { mirrored: true });
    const synced = branchAfterPushlog(branch, [{ pushId: 800, pushTime: S0 - 300, gitChangesets: [sha(50)] }], 800).branch;
    expect(decided(synced, 50)).toBe(false);
    const seen = branchAfterMirror(synced, new Set([sha(50)]), T0);
    expect(seen.mirrored).toEqual([{ push: git(50, S0 - 400), seconds: 400 }]);
    expect(decided(seen.branch, 50)).toBe(true);
  });

  it("keeps each check's sync lag for the last day, null for a failed check, and /status shows it with since when", () => {
    const pending = branchAfterMessages(NEW_BRANCH, [git(60, S0 - 600)], { mirrored: false }).branch;
    let branch = branchAfterCheck(pending, { ok: true, read: true, atMs: T0 - 5 * 60_000, repository: REPO });
    branch = branchAfterLag(branch, lagPoint({ ok: true, lagSeconds: lagSeconds(branch.state, T0 - 5 * 60_000, STALE) }, T0 - 5 * 60_000), T0 - 5 * 60_000);
    branch = branchAfterCheck(branch, { ok: false, error: "hg.mozilla.org: HTTP 503", read: true, atMs: T0, repository: REPO });
    branch = branchAfterLag(branch, lagPoint({ ok: false, lagSeconds: lagSeconds(branch.state, T0, STALE) }, T0), T0);
    const [entry] = syncSection([{ branch: "autoland", repository: REPO }], new Map([["autoland", branch]]), T0, {
      staleAfterMs: STALE,
      connected: true,
      startedAt: T0 - 60 * 60_000,
    });
    expect(entry?.history).toEqual([
      { at: "2026-12-03T11:55:00.000Z", lagSeconds: 300 },
      { at: "2026-12-03T12:00:00.000Z", lagSeconds: null },
    ]);
    expect(entry?.historySince).toBe("2026-12-03T11:00:00.000Z");
    // A branch no check has reached yet: an empty history, not a zero.
    const [fresh] = syncSection([{ branch: "main", repository: "firefox" }], new Map(), T0, { staleAfterMs: STALE, connected: true, startedAt: T0 });
    expect(fresh?.history).toEqual([]);
  });
});
