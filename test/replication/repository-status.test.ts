// The status derivation and the status document over fixed instants: each status, its edges, and the
// reasons a person reads.
import { describe, expect, it } from "vitest";
import { INITIAL_STATE, stateAfterCheck, type CheckOutcome, type RepositoryState } from "../../src/run/lag.ts";
import { repositoryStatus, type StatusPolicy } from "../../src/replication/repository-status.ts";
import { repositoriesSection } from "../../src/replication/status.ts";
import { pipelineSection } from "../../src/review/status.ts";
import { EMPTY_BOOK } from "../../src/review/reviews.ts";
import { documentOf } from "../support/status.ts";
import type { Push } from "../../src/hgpush/hgpush-message.ts";

const T0 = Date.UTC(2026, 11, 3, 3, 0, 0); // 3 a.m., a fixed instant (ms)
const MIN = 60_000;
const HOUR = 60 * MIN;
const POLICY: StatusPolicy = { staleAfterMs: 15 * MIN, stalledAfterChecks: 6, noInputAfterMs: 6 * HOUR };
const UP = { connected: true, startedAt: T0 - 24 * HOUR };
const push = (pushId: number, secondsAgo: number, at = T0): Push => ({ repository: "r", pushId, pushTime: at / 1000 - secondsAgo, user: "ffxbld" });
const NODE = "9f2c1e7a3b4d5e6f708192a3b4c5d6e7f8091a2b";

/** Runs checks every 5 minutes ending at T0, each with the outcome `outcome(i)` (i = 0 the first). */
function afterChecks(count: number, outcome: (i: number, atMs: number) => Omit<CheckOutcome, "atMs">, from: RepositoryState = INITIAL_STATE): RepositoryState {
  let state = from;
  for (let i = 0; i < count; i++) {
    const atMs = T0 - (count - 1 - i) * 5 * MIN;
    state = stateAfterCheck(state, { ...outcome(i, atMs), atMs });
  }
  return state;
}

describe("repositoryStatus", () => {
  it("is unknown before any check, saying so", () => {
    expect(repositoryStatus(INITIAL_STATE, T0, POLICY, UP)).toEqual({ status: "unknown", reason: "no check has run yet", lagSeconds: Number.NaN });
  });

  it("is unknown after failed checks only, with the last error", () => {
    const state = afterChecks(2, () => ({ ok: false, error: "hg.mozilla.org GET /json-pushes: 503", unverified: undefined }));
    expect(repositoryStatus(state, T0, POLICY, UP)).toMatchObject({
      status: "unknown",
      reason: "no check has completed yet: hg.mozilla.org GET /json-pushes: 503",
    });
  });

  it("is ok with nothing outstanding and a push received within the window", () => {
    const state = afterChecks(1, () => ({ ok: true, unverified: [], receivedNew: true }));
    expect(repositoryStatus(state, T0, POLICY, UP)).toEqual({ status: "ok", reason: null, lagSeconds: 0 });
    // A quiet minute, or five hours, is still ok.
    expect(repositoryStatus(state, T0 + 5 * MIN, POLICY, UP).status).toBe("ok");
  });

  it("is lagging while a push waits, naming the push and its first missing commit", () => {
    const state = afterChecks(1, () => ({ ok: true, unverified: [push(42, 600)], missing: { pushId: 42, node: NODE, count: 3 }, receivedNew: true }));
    expect(repositoryStatus(state, T0, POLICY, UP)).toEqual({
      status: "lagging",
      reason: "push 42 is not fully mirrored after 10 min; 9f2c1e7a3b4d is not in the mirror",
      lagSeconds: 600,
    });
    expect(state.oldestUnverified).toEqual({ pushId: 42, pushTime: T0 / 1000 - 600, user: "ffxbld", missingNode: NODE, missingCommits: 3 });
  });

  it("is stalled when the same push has held the lag for stalledAfterChecks checks in a row, and lagging one check before", () => {
    const blocked = (i: number, atMs: number) => ({ ok: true, unverified: [push(42, 600 + i * 300, atMs)], missing: { pushId: 42, node: NODE, count: 1 } });
    const five = afterChecks(5, blocked);
    expect(five.blockedChecks).toBe(5);
    expect(repositoryStatus(five, T0, POLICY, UP).status).toBe("lagging");
    const six = afterChecks(6, blocked);
    expect(six.blockedChecks).toBe(6);
    expect(repositoryStatus(six, T0, POLICY, UP)).toMatchObject({
      status: "stalled",
      reason: "push 42 has held the lag for 6 checks in a row; 9f2c1e7a3b4d is not in the mirror",
    });
  });

  it("is lagging, not stalled, when the mirror moves: a new push holds the lag at every check", () => {
    const moving = afterChecks(8, (i, atMs) => ({ ok: true, unverified: [push(100 + i, 240, atMs)], missing: { pushId: 100 + i, node: NODE, count: 1 } }));
    expect(moving.blockedChecks).toBe(1);
    expect(repositoryStatus(moving, T0, POLICY, UP).status).toBe("lagging");
  });

  it("a failed check that still sees the same push keeps counting; one that read nothing leaves the count alone", () => {
    const blocked = { ok: true, unverified: [push(42, 600)], missing: { pushId: 42, node: NODE, count: 1 } };
    const two = afterChecks(2, () => blocked);
    const failedSeeing = stateAfterCheck(two, { ok: false, error: "phabricator: 500", unverified: [push(42, 900)], atMs: T0 + 5 * MIN });
    expect(failedSeeing.blockedChecks).toBe(3);
    const failedBlind = stateAfterCheck(two, { ok: false, error: "pulse: not connected", unverified: undefined, atMs: T0 + 5 * MIN });
    expect(failedBlind.blockedChecks).toBe(2);
    expect(failedBlind.oldestUnverified?.pushId).toBe(42);
  });

  it("is no_input when nothing is outstanding and no push arrived for the window, counted from start-up when none ever did", () => {
    const state = afterChecks(1, () => ({ ok: true, unverified: [], receivedNew: true }));
    expect(repositoryStatus(state, T0 + 6 * HOUR - 1, POLICY, UP).status).not.toBe("no_input");
    // Still within three intervals of a completed check, so the lag is known: only the input is quiet.
    const later = stateAfterCheck(state, { ok: true, unverified: [], atMs: T0 + 6 * HOUR });
    expect(repositoryStatus(later, T0 + 6 * HOUR, POLICY, UP)).toEqual({
      status: "no_input",
      reason: "no push received for 6 h; a quiet feed and a broken one look alike",
      lagSeconds: 0,
    });
    const fresh = afterChecks(1, () => ({ ok: true, unverified: [] }));
    expect(repositoryStatus(fresh, T0, POLICY, { connected: true, startedAt: T0 - 5 * MIN }).status).toBe("ok");
    expect(repositoryStatus(fresh, T0, POLICY, { connected: true, startedAt: T0 - 7 * HOUR })).toMatchObject({
      status: "no_input",
      reason: "no push received for 7 h (none since this process started); a quiet feed and a broken one look alike",
    });
  });

  it("is unknown, not ok, while Pulse is disconnected or the last check failed; a known lag stays lagging", () => {
    const clear = afterChecks(1, () => ({ ok: true, unverified: [], receivedNew: true }));
    expect(repositoryStatus(clear, T0, POLICY, { ...UP, connected: false })).toMatchObject({
      status: "unknown",
      reason: "Pulse is disconnected: new pushes may be arriving unseen",
    });
    const failed = stateAfterCheck(clear, { ok: false, error: "phabricator: 500", unverified: [], atMs: T0 + MIN });
    expect(repositoryStatus(failed, T0 + MIN, POLICY, UP)).toMatchObject({ status: "unknown", reason: "the last check failed: phabricator: 500" });
    const lagging = afterChecks(1, () => ({ ok: true, unverified: [push(7, 1200)] }));
    expect(repositoryStatus(lagging, T0, POLICY, { ...UP, connected: false }).status).toBe("lagging");
  });

  it("is unknown once the last completed check is more than three intervals old", () => {
    const state = afterChecks(1, () => ({ ok: true, unverified: [], receivedNew: true }));
    const failed = stateAfterCheck(state, { ok: false, error: "pulse: not connected", unverified: undefined, atMs: T0 + 16 * MIN });
    expect(repositoryStatus(failed, T0 + 16 * MIN, POLICY, UP)).toMatchObject({
      status: "unknown",
      reason: "the last completed check was 16 min ago: pulse: not connected",
    });
  });
});

describe("the status document", () => {
  it("lists each repository with the contract's fields, nulls for what is not known, and a repository's own no-input window", () => {
    const lagging = afterChecks(1, () => ({ ok: true, unverified: [push(42, 600)], missing: { pushId: 42, node: NODE, count: 2 }, receivedNew: true }));
    const quiet = afterChecks(1, () => ({ ok: true, unverified: [] }));
    const repositories = repositoriesSection(
      [
        { path: "integration/autoland", callsign: "AUTOLAND" },
        { path: "mozilla-central", callsign: "MOZILLACENTRAL", noInputAfterMs: 48 * HOUR },
        { path: "releases/mozilla-beta", callsign: "BETA" },
      ],
      new Map([
        ["integration/autoland", lagging],
        ["mozilla-central", quiet],
      ]),
      T0,
      POLICY,
      { connected: true, startedAt: T0 - 12 * HOUR },
      new Map([
        [
          "integration/autoland",
          [
            // A day and a minute ago: out of the last 24 h, not shown.
            { atMs: T0 - 24 * HOUR - MIN, lagSeconds: 5 },
            { atMs: T0 - 5 * MIN, lagSeconds: null },
            { atMs: T0, lagSeconds: 600 },
          ],
        ],
      ]),
    );
    const doc = documentOf(
      { repositories },
      [
        { queue: "queue/u/q", owner: "service", reading: { kind: "ok", messages: 3, consumers: 1 } },
        { queue: "queue/other/q", owner: "watched", reading: { kind: "unknown", reason: "not connected" } },
      ],
      T0,
    );
    expect(doc.generatedAt).toBe("2026-12-03T03:00:00.000Z");
    expect(doc.repositories[0]).toEqual({
      repository: "integration/autoland",
      callsign: "AUTOLAND",
      status: "lagging",
      reason: "push 42 is not fully mirrored after 10 min; 9f2c1e7a3b4d is not in the mirror",
      lagSeconds: 600,
      oldestUnverified: { pushId: 42, pushTime: "2026-12-03T02:50:00.000Z", user: "ffxbld", missingNode: NODE, missingCommits: 2 },
      blockedChecks: 1,
      pending: 1,
      lastCheck: "2026-12-03T03:00:00.000Z",
      lastSuccess: "2026-12-03T03:00:00.000Z",
      lastError: null,
      lastPushReceived: "2026-12-03T03:00:00.000Z",
      history: [
        { at: "2026-12-03T02:55:00.000Z", lagSeconds: null },
        { at: "2026-12-03T03:00:00.000Z", lagSeconds: 600 },
      ],
      historySince: "2026-12-02T15:00:00.000Z",
    });
    // Twelve hours without a push is no_input by the 6 h default, but not by mozilla-central's 48 h.
    expect(doc.repositories[1]).toMatchObject({ status: "ok", lagSeconds: 0, oldestUnverified: null, lastPushReceived: null });
    expect(doc.repositories[2]).toMatchObject({
      status: "unknown",
      reason: "no check has run yet",
      lagSeconds: null,
      pending: null,
      lastCheck: null,
      history: [],
      historySince: "2026-12-02T15:00:00.000Z",
    });
    expect(doc.pipeline).toBeNull();
    expect(doc.sync).toBeNull();
    expect(doc.queues).toEqual([
      { queue: "queue/u/q", owner: "service", state: "ok", messages: 3, consumers: 1 },
      { queue: "queue/other/q", owner: "watched", state: "unknown", messages: null, consumers: null },
    ]);
    // JSON-safe: no NaN anywhere.
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it("gives the pipeline's reviews in flight only while the view is whole, and its last code-review push", () => {
    const view = {
      book: EMPTY_BOOK,
      whole: true,
      polledAt: T0 - MIN,
      lastCodeReviewPush: { pushId: 9000, pushTime: T0 / 1000 - 3600 },
      lastCheckAt: T0 - MIN,
      lastSuccessAt: T0 - MIN,
      lastError: undefined,
    };
    expect(pipelineSection(view, T0, POLICY.staleAfterMs)).toEqual({
      reviewsInFlight: 0,
      oldestReviewSeconds: 0,
      stuck: [],
      lastCodeReviewPush: { pushId: 9000, pushTime: "2026-12-03T02:00:00.000Z" },
      lastCheck: "2026-12-03T02:59:00.000Z",
      lastSuccess: "2026-12-03T02:59:00.000Z",
      lastError: null,
    });
    expect(pipelineSection({ ...view, whole: false }, T0, POLICY.staleAfterMs)).toMatchObject({
      reviewsInFlight: null,
      oldestReviewSeconds: null,
      stuck: null,
    });
  });

  it("never throws on a time no Date can hold: that time is null, the rest of the document stands", () => {
    const state = afterChecks(1, () => ({ ok: true, unverified: [{ ...push(1, 0), pushTime: 1e13 }], receivedNew: true }));
    const [entry] = repositoriesSection([{ path: "r", callsign: "R" }], new Map([["r", state]]), T0, POLICY, UP);
    expect(entry?.oldestUnverified).toMatchObject({ pushId: 1, pushTime: null });
    expect(entry?.lastCheck).toBe(new Date(T0).toISOString());
  });
});
