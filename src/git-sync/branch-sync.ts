// What the Git → hg sync check carries from one check to the next for one Git branch, as a value with
// transitions: the Git pushes Lando announced that hg does not have yet, those a Git mirror has not
// shown yet, how far the hg pushlog has been read, and the lag state (lag.ts's, so the scrape-time lag
// obeys the same rules as the replication lag: never a false zero). Pure.
//
// git-hg-sync replays each Git push into the hg repository in order (mozilla-conduit/git-hg-sync
// repo_synchronizer.py), and json-pushes names, for every hg changeset, the Git commit it came from
// (git_changesets). A Git push is synced when an hg push lists its head. On a branch Lando only moves
// forward, so a later push found synced means every earlier one is too, even if its hg push was
// before the part of the pushlog this process read.
import type { GitPush } from "./lando-message.ts";
import { INITIAL_STATE, stateAfterCheck, type RepositoryState } from "../run/lag.ts";
import { EMPTY_HISTORY, historyAfterCheck, type LagHistory, type LagPoint } from "../run/lag-history.ts";

export interface BranchSync {
  /** Git pushes not yet found in the hg pushlog, by Lando push id. */
  readonly pending: ReadonlyMap<number, GitPush>;
  /** Git pushes whose head the branch's Git mirror has not shown yet (only for repositories checked as Git). */
  readonly unmirrored: ReadonlyMap<number, GitPush>;
  /** The highest hg push id read from the repository's pushlog. */
  readonly hgCursor: number | undefined;
  readonly state: RepositoryState;
  /** The sync lag of each check over the last 24 h (lag-history.ts), since this process started. */
  readonly history: LagHistory;
}

export const NEW_BRANCH: BranchSync = { pending: new Map(), unmirrored: new Map(), hgCursor: undefined, state: INITIAL_STATE, history: EMPTY_HISTORY };

/** How far back the pushlog is read again when new Git pushes arrive: their hg push may already be there. */
export const HG_LOOKBACK_PUSHES = 200;

/** Messages read: each Git push not seen before is pending (and waits for the mirror when `mirrored`). */
export function branchAfterMessages(branch: BranchSync, pushes: readonly GitPush[], options: { mirrored: boolean }): { branch: BranchSync; arrived: number } {
  const pending = new Map(branch.pending);
  const unmirrored = new Map(branch.unmirrored);
  let arrived = 0;
  for (const push of pushes) {
    if (pending.has(push.pushId) || unmirrored.has(push.pushId)) continue;
    pending.set(push.pushId, push);
    if (options.mirrored) unmirrored.set(push.pushId, push);
    arrived++;
  }
  return { branch: { ...branch, pending, unmirrored }, arrived };
}

/**
 * The hg push ids to read this check, (startId, endId]: from where the last read ended, or a slice
 * further back when new Git pushes arrived (or on the first read); nothing when nothing is pending.
 */
export function hgRangeToRead(branch: BranchSync, arrived: number, lastPushId: number): { startId: number; endId: number } | undefined {
  if (branch.pending.size === 0) return undefined;
  const from = branch.hgCursor === undefined || arrived > 0 ? Math.min(branch.hgCursor ?? lastPushId, lastPushId) - HG_LOOKBACK_PUSHES : branch.hgCursor;
  const startId = Math.max(0, from);
  return startId < lastPushId ? { startId, endId: lastPushId } : undefined;
}

export interface HgPushRead {
  pushId: number;
  /** Unix seconds. */
  pushTime: number;
  gitChangesets: ReadonlyArray<string | null>;
}

export interface SyncedPush {
  push: GitPush;
  /** The hg push that carries its head; undefined when it is known synced only because a later push is. */
  hgPushId: number | undefined;
  /** Git push time → hg push time, seconds; undefined when not measured. */
  delaySeconds: number | undefined;
}

/** After reading hg pushes: the pending Git pushes whose head is there are synced, with their delay. */
export function branchAfterPushlog(
  branch: BranchSync,
  hgPushes: readonly HgPushRead[],
  readUpTo: number | undefined,
): { branch: BranchSync; synced: SyncedPush[] } {
  const carrier = new Map<string, HgPushRead>();
  for (const hg of [...hgPushes].sort((a, b) => a.pushId - b.pushId)) {
    for (const sha of hg.gitChangesets) if (sha !== null && !carrier.has(sha)) carrier.set(sha, hg);
  }
  const byId = [...branch.pending.values()].sort((a, b) => a.pushId - b.pushId);
  const found = byId.filter((p) => carrier.has(p.head));
  const newestFound = found.at(-1)?.pushId;
  const synced: SyncedPush[] = [];
  const pending = new Map(branch.pending);
  for (const push of byId) {
    const hg = carrier.get(push.head);
    if (hg !== undefined) {
      synced.push({ push, hgPushId: hg.pushId, delaySeconds: Math.max(0, hg.pushTime - push.pushTime) });
      pending.delete(push.pushId);
    } else if (newestFound !== undefined && push.pushId < newestFound) {
      synced.push({ push, hgPushId: undefined, delaySeconds: undefined });
      pending.delete(push.pushId);
    }
  }
  const hgCursor = readUpTo === undefined ? branch.hgCursor : Math.max(branch.hgCursor ?? 0, readUpTo);
  return { branch: { ...branch, pending, hgCursor }, synced };
}

/** After asking the Git mirror: the heads it has are mirrored, each with its landing → mirror time. */
export function branchAfterMirror(
  branch: BranchSync,
  has: ReadonlySet<string>,
  atMs: number,
): { branch: BranchSync; mirrored: Array<{ push: GitPush; seconds: number }> } {
  const unmirrored = new Map(branch.unmirrored);
  const mirrored: Array<{ push: GitPush; seconds: number }> = [];
  for (const push of branch.unmirrored.values()) {
    if (!has.has(push.head)) continue;
    unmirrored.delete(push.pushId);
    mirrored.push({ push, seconds: Math.max(0, atMs / 1000 - push.pushTime) });
  }
  return { branch: { ...branch, unmirrored }, mirrored };
}

/** The check's end: the lag state moves as the replication lag's does, over the pending Git pushes. */
export function branchAfterCheck(branch: BranchSync, outcome: { ok: boolean; error?: string; read: boolean; atMs: number; repository: string }): BranchSync {
  const unverified = outcome.read
    ? [...branch.pending.values()].map((p) => ({ repository: outcome.repository, pushId: p.pushId, pushTime: p.pushTime, user: p.user }))
    : undefined;
  return { ...branch, state: stateAfterCheck(branch.state, { ok: outcome.ok, error: outcome.error, unverified, atMs: outcome.atMs }) };
}

/** The check's sync lag, once known, joins the last day's (older points leave). */
export function branchAfterLag(branch: BranchSync, point: LagPoint, nowMs: number): BranchSync {
  return { ...branch, history: historyAfterCheck(branch.history, point, nowMs) };
}

/** Whether a Git push is decided: found in hg, and shown by the Git mirror where one is checked. */
export function decided(branch: BranchSync, pushId: number): boolean {
  return !branch.pending.has(pushId) && !branch.unmirrored.has(pushId);
}
