// Which commits of a push a mirror is asked for: the hg nodes, or for a repository checked as Git the
// Git commits its changesets came from (json-pushes' git_changesets, written by git-hg-sync;
// version-control-tools hgext/pushlog/feed.py). Pure.
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";
import { isUnixTime } from "../core/push-time.ts";

export interface ListedPush {
  changesets: readonly string[];
  gitChangesets?: ReadonlyArray<string | null>;
}

export type MirrorCommits =
  /** Look these up; `nullGit` changesets had no Git hash and are not looked up. */
  | { ids: string[]; nullGit: number }
  /** Nothing to look up: the push cannot be verified this way, and is set aside rather than waited for. */
  | { givenUp: GiveUpReason; nullGit: number };

/**
 * A null Git hash neither blocks a push nor vouches for it: the push is verified by its other Git
 * commits, and a push with changesets but no Git hash at all is given up (`no_git_commit`), never
 * counted as mirrored.
 */
export function mirrorCommits(push: ListedPush, vcs: "hg" | "git"): MirrorCommits {
  if (vcs === "hg") return { ids: [...push.changesets], nullGit: 0 };
  const git = push.gitChangesets ?? push.changesets.map(() => null);
  const ids = git.filter((g): g is string => g !== null);
  const nullGit = git.length - ids.length;
  if (ids.length === 0 && push.changesets.length > 0) return { givenUp: "no_git_commit", nullGit };
  return { ids, nullGit };
}

/** A push of a pushlog slice as the walk reads it: the commits to ask for, or why there are none. */
export interface ListedForWalk {
  changesets: readonly string[];
  /** Absent for a push given up for its time: that time is not used. */
  pushTime?: number;
  givenUp?: GiveUpReason;
}

/**
 * What the walk makes of one listed push: a date no push can have is bad input (`bad_time`), set
 * aside like a malformed message; otherwise the commits its mirror is asked for.
 */
export function listedForWalk(push: ListedPush & { pushTime: number }, vcs: "hg" | "git"): { listed: ListedForWalk; nullGit: number } {
  if (!isUnixTime(push.pushTime)) return { listed: { changesets: [], givenUp: "bad_time" }, nullGit: 0 };
  const chosen = mirrorCommits(push, vcs);
  const listed = "ids" in chosen ? { changesets: chosen.ids, pushTime: push.pushTime } : { changesets: [], pushTime: push.pushTime, givenUp: chosen.givenUp };
  return { listed, nullGit: chosen.nullGit };
}
