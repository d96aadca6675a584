// What the replication check carries from one check to the next for one repository, as a value with
// transitions: the lag state, the highest push id the pushlog listed, the pushes read and not yet
// verified, and the push ids json-pushes has not listed yet. The check (src/replication/check.ts) asks and
// tells; every decision is here or in the pure modules it names. Pure.
import type { Push } from "../hgpush/hgpush-message.ts";
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";
import { absenceAfterCheck, absentPushFate } from "../hgpush/absent-pushes.ts";
import { INITIAL_STATE, stateAfterCheck, type CheckOutcome, type RepositoryState } from "../run/lag.ts";
import { mergePushes } from "../hgpush/pushlog-gaps.ts";
import { EMPTY_HISTORY, historyAfterCheck, type LagHistory, type LagPoint } from "../run/lag-history.ts";
import type { PushCommits, WalkResult } from "./push-walk.ts";
import type { ListedForWalk } from "./mirror-commits.ts";

export interface RepositoryWatch {
  readonly state: RepositoryState;
  /** The highest push id the pushlog listed: where the next search for lost pushes starts. */
  readonly lastSeen: number | undefined;
  /**
   * Every push read (from a message or the pushlog) and not verified yet, kept until verified or
   * given up, so that a queue deleted between checks loses nothing this process has seen. A restart
   * forgets them; their messages, or the pushlog read after a lost queue, bring them back.
   */
  readonly held: ReadonlyMap<number, Push>;
  /** Push ids json-pushes did not list yet, and in how many checks in a row. */
  readonly absences: ReadonlyMap<number, number>;
  /** The lag of each check over the last 24 h (lag-history.ts), since this process started. */
  readonly history: LagHistory;
}

export const NEW_WATCH: RepositoryWatch = { state: INITIAL_STATE, lastSeen: undefined, held: new Map(), absences: new Map(), history: EMPTY_HISTORY };

/** Pushes found in the pushlog that never came over Pulse are held like those that did. */
export function watchAfterGapSearch(watch: RepositoryWatch, found: readonly Push[]): RepositoryWatch {
  if (found.length === 0) return watch;
  const held = new Map(watch.held);
  for (const push of found) held.set(push.pushId, push);
  return { ...watch, held };
}

/** The pushes this check walks: those its messages announce and those held from before, by id. */
export function pushesToWalk(watch: RepositoryWatch, fromMessages: readonly Push[], nowS: number): Push[] {
  return mergePushes(fromMessages, watch.held.values(), nowS);
}

/**
 * One slice of json-pushes, each push with the commits its mirror is asked for (mirror-commits.ts):
 * `givenUp` when it has none to ask for.
 */
export interface PushlogSlice {
  pushes: ReadonlyMap<number, ListedForWalk>;
  lastPushId: number;
}

/** What one slice says about the push ids of its range. */
export interface SliceReading {
  /** Per push id of the range: its commits, or why the walk has none. */
  commits: Map<number, PushCommits>;
  /** The pushlog's time of each push it listed: the push time (a message's `time` was ×10 in 2016–2018). */
  pushTimes: Map<number, number>;
  /** Push ids absent and still waited for. */
  waiting: number[];
  /** The highest push id listed in this slice. */
  highestListed: number | undefined;
}

/** Reads a slice of the range (startId, endId] against the absences carried from earlier checks. */
export function readSlice(watch: RepositoryWatch, range: { startId: number; endId: number }, slice: PushlogSlice): SliceReading {
  const reading: SliceReading = { commits: new Map(), pushTimes: new Map(), waiting: [], highestListed: undefined };
  for (let id = range.startId + 1; id <= range.endId; id++) {
    const listed = slice.pushes.get(id);
    if (listed?.givenUp !== undefined) {
      reading.commits.set(id, { changesets: undefined, givenUp: listed.givenUp });
      if (listed.pushTime !== undefined) reading.pushTimes.set(id, listed.pushTime);
      reading.highestListed = Math.max(reading.highestListed ?? 0, id);
      continue;
    }
    if (listed) {
      reading.commits.set(id, { changesets: listed.changesets });
      if (listed.pushTime !== undefined) reading.pushTimes.set(id, listed.pushTime);
      reading.highestListed = Math.max(reading.highestListed ?? 0, id);
      continue;
    }
    const fate = absentPushFate(id, slice.lastPushId, (watch.absences.get(id) ?? 0) + 1);
    if (fate.wait) {
      reading.waiting.push(id);
      reading.commits.set(id, { changesets: undefined });
    } else {
      reading.commits.set(id, { changesets: undefined, givenUp: fate.reason });
    }
  }
  return reading;
}

/**
 * Whether the walk needs the next range: only while it stopped for want of data. Past a push that
 * is not mirrored, or not listed yet, nothing can be acked, so there is no need to ask further.
 */
export function walkNeedsMore(walk: Pick<WalkResult, "stoppedAt"> | undefined): boolean {
  if (walk === undefined) return false;
  return walk.stoppedAt !== undefined && walk.stoppedAt.reason.kind === "unknown";
}

/** What the check learnt of a repository's pushes. */
export interface VerificationOutcome {
  /** Every push walked, with the pushlog's push time where it listed the push. */
  pushes: readonly Push[];
  verified: readonly Push[];
  givenUp: ReadonlyArray<{ push: Push; reason: GiveUpReason }>;
  waiting: readonly number[];
  highestListed: number | undefined;
}

/**
 * After verification: verified and given-up pushes are let go, every other push walked is held
 * (whatever happens to its message: should PulseGuardian delete the queue, at 8,000 messages and
 * exactly when the mirror is stuck, this process still knows what holds the lag), and only a push id
 * the pushlog listed moves the start of the next gap search (a stray id would hide every real push
 * below it).
 */
export function watchAfterVerification(watch: RepositoryWatch, outcome: VerificationOutcome): RepositoryWatch {
  const done = settledIds(outcome);
  const held = new Map(watch.held);
  for (const id of done) held.delete(id);
  for (const push of outcome.pushes) if (!done.has(push.pushId)) held.set(push.pushId, push);
  const newest = Math.max(watch.lastSeen ?? 0, outcome.highestListed ?? 0);
  return {
    ...watch,
    held,
    absences: absenceAfterCheck(watch.absences, outcome.waiting),
    lastSeen: newest > 0 ? newest : watch.lastSeen,
  };
}

/** Push ids the check is done with: verified, or given up (those hold their messages no longer). */
export function settledIds(outcome: Pick<VerificationOutcome, "verified" | "givenUp">): Set<number> {
  return new Set([...outcome.verified.map((p) => p.pushId), ...outcome.givenUp.map((g) => g.push.pushId)]);
}

/** After the check's report: the lag state moves (lag.ts says how). */
export function watchAfterCheck(watch: RepositoryWatch, outcome: CheckOutcome): RepositoryWatch {
  return { ...watch, state: stateAfterCheck(watch.state, outcome) };
}

/** The check's lag, once known, joins the last day's (older points leave). */
export function watchAfterLag(watch: RepositoryWatch, point: LagPoint, nowMs: number): RepositoryWatch {
  return { ...watch, history: historyAfterCheck(watch.history, point, nowMs) };
}
