// The body of a json-pushes answer: version-control-tools hgext/pushlog/feed.py `pushes_worker` and
// the `pushes1`/`pushes2` templates of hgtemplates/json/map.
import type { Changelog } from "./changelog.ts";
import type { PushlogAnswer } from "./pushlog-query.ts";
import { NULL_NODE, type Changeset } from "./repository.ts";

interface PushBody {
  user: string;
  date: number;
  changesets: unknown[];
  obsoletechangesets?: unknown[];
  git_changesets?: Array<string | null>;
}

/**
 * A push is listed once one of its nodes is (one without changesets never is). A hidden changeset
 * goes to `obsoletechangesets` and has no `git_changesets` item, so a push of hidden changesets only
 * is `changesets: []` without `git_changesets`. Nodes come newest first and are inserted at 0.
 */
export function pushesBody(log: Changelog, answer: PushlogAnswer, full: boolean): unknown {
  const haveObs = log.revs.some((c) => c.obsolete || c.precursors.length > 0);
  const pushes: Record<string, PushBody> = {};
  for (const { push, nodes } of answer.entries) {
    for (const node of nodes) {
      const changeset = log.byNode.get(node);
      if (!changeset) continue;
      const body = (pushes[String(push.id)] ??= { user: push.user, date: push.date, changesets: [] });
      const hidden = log.isFiltered(node);
      if (!hidden) (body.git_changesets ??= []).unshift(changeset.gitCommit);
      const item = full ? fullChangeset(log, changeset, haveObs, hidden) : node;
      if (hidden) (body.obsoletechangesets ??= []).unshift(item);
      else body.changesets.unshift(item);
    }
  }
  return answer.version === 2 ? { lastpushid: answer.lastpushid, pushes } : pushes;
}

/** `full`: a changeset's fields; `precursors` only where the repository has obsolescence markers. */
function fullChangeset(log: Changelog, c: Changeset, haveObs: boolean, hidden: boolean): Record<string, unknown> {
  const parents = c.parents.length > 0 ? c.parents : [NULL_NODE];
  // ctx.tags(): `tip` is the view's last revision, and a hidden changeset's view is the unfiltered one.
  const tip = hidden ? log.revs.at(-1) : log.tip();
  return {
    node: c.node,
    git_node: c.gitCommit,
    author: c.author,
    desc: c.desc,
    branch: c.branch,
    parents,
    git_parents: parents.map((p) => log.byNode.get(p)?.gitCommit ?? null),
    tags: tip?.node === c.node ? ["tip"] : [],
    files: c.files,
    ...(haveObs && c.precursors.length > 0 ? { precursors: c.precursors } : {}),
  };
}
