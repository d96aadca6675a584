// `display-lag <git hash>`: where a Git commit has got to on its way Lando → Git → hg → Phabricator:
// synced to hg (the hg push whose git_changesets names it, found by reading each repository's
// pushlog back from its end, by push id), and whether the Git mirror (REPOSITORIES `…:git`) has it.
// Lando itself cannot be asked: a commit seen in hg or in the Git mirror has landed.
import type { PushlogClient } from "../pushlog/pushlog.ts";
import type { Mirror } from "../mirror/mirror.ts";
import { pushIdRanges } from "../pushlog/push-id-ranges.ts";
import { humanSuffix } from "../core/duration.ts";

/** How far back each pushlog is read for a Git commit: a few days of autoland, five requests. */
export const GIT_LOOKUP_PUSHES = 1000;

export interface GitCommitStatus {
  hash: string;
  /** Each repository read: the hg push that carries the commit, or how far back it was looked for. */
  hg: Array<{ repository: string; found?: { pushId: number; pushTime: number; node: string }; searched: number }>;
  /** Each Git mirror asked: whether it has the commit. */
  mirrors: Array<{ repository: string; name: string; has: boolean }>;
}

export async function lookupGitCommit(
  hash: string,
  ports: { pushlog: PushlogClient; repositories: readonly string[]; gitMirrors: ReadonlyMap<string, Mirror>; signal?: AbortSignal },
): Promise<GitCommitStatus> {
  const hg: GitCommitStatus["hg"] = [];
  for (const repository of ports.repositories) {
    const last = await ports.pushlog.lastPushId(repository, ports.signal);
    const first = Math.max(1, last - GIT_LOOKUP_PUSHES + 1);
    const ranges = pushIdRanges(
      Array.from({ length: last - first + 1 }, (_, i) => first + i),
      200,
    ).reverse();
    let found: { pushId: number; pushTime: number; node: string } | undefined;
    for (const range of ranges) {
      for (const push of (await ports.pushlog.fetchRange(repository, range, ports.signal)).pushes.values()) {
        const index = (push.gitChangesets ?? []).indexOf(hash);
        if (index >= 0) found = { pushId: push.pushId, pushTime: push.pushTime, node: push.changesets[index] as string };
      }
      if (found) break;
    }
    hg.push({ repository, ...(found ? { found } : {}), searched: last - first + 1 });
  }
  const mirrors: GitCommitStatus["mirrors"] = [];
  for (const [repository, mirror] of ports.gitMirrors) {
    mirrors.push({ repository, name: mirror.name, has: (await mirror.has([hash], ports.signal)).has(hash) });
  }
  return { hash, hg, mirrors };
}

export function formatGitCommitStatus(status: GitCommitStatus, nowMs: number): string[] {
  const landed = status.hg.some((h) => h.found) || status.mirrors.some((m) => m.has);
  const lines = [`${status.hash} (Git): ${landed ? "landed" : "not seen: not landed yet, or older than what was read"}`];
  for (const { repository, found, searched } of status.hg) {
    if (found) {
      const age = Math.max(0, Math.floor(nowMs / 1000) - found.pushTime);
      lines.push(
        `  synced to hg ${repository} as push ${found.pushId} (${new Date(found.pushTime * 1000).toISOString()}, ${age} s ago${humanSuffix(age)}), changeset ${found.node}`,
      );
    } else {
      lines.push(`  NOT in hg ${repository} (its last ${searched} pushes)`);
    }
  }
  for (const { repository, name, has } of status.mirrors)
    lines.push(`  ${has ? "in" : "NOT in"} the Phabricator mirror ${name} (${repository}, checked as Git)`);
  if (status.hg.length === 0 && status.mirrors.length === 0) lines.push("  nothing to ask: set GIT_BRANCHES or a REPOSITORIES entry with :git");
  return lines;
}
