// Which pushes a json-pushes request selects: version-control-tools hgext/pushlog/feed.py
// `pushlog_setup` (the parameters) and `PushlogQuery.do_query`, over hgext/pushlog/__init__.py
// `pushlog.pushes` (the SQL). Throws what the real code raises, in the order it raises it.
import type { Changelog } from "./changelog.ts";
import { HgErrorResponse, HgUncaught } from "./errors.ts";
import { pushlogDate } from "./dates.ts";
import { revsymbol } from "./lookup.ts";
import type { Push } from "./repository.ts";

export const PUSHES_PER_PAGE = 10;

/** One pushlog row with the nodes `do_query` keeps of it, newest push first (`reverse=True`). */
export interface Entry {
  push: Push;
  nodes: string[];
}

export interface PushlogAnswer {
  version: 1 | 2;
  entries: Entry[];
  lastpushid: number;
}

type Bound = { kind: "date"; value: number } | { kind: "node"; value: string } | { kind: "id"; value: string };

/** hgweb's multidict `get`: the last value given for a key. */
export const lastValue = (params: URLSearchParams, key: string) => params.getAll(key).at(-1) ?? null;

/** Python's `int(text)`: surrounding blanks, a sign and `_` between digits allowed; a ValueError otherwise. */
export function pythonInt(text: string): number {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(text)) throw new HgUncaught(`invalid literal for int(): '${text}'`);
  return Number(text.trim().replace(/_/g, ""));
}

export function runPushlogQuery(log: Changelog, params: URLSearchParams, page: number, now: number): PushlogAnswer {
  const start = bound(params, ["startdate", "fromchange", "startID"], now);
  const end = bound(params, ["enddate", "tochange", "endID"], now);
  const users = params.getAll("user");
  const changesets = params.getAll("changeset");
  const branch = lastValue(params, "branch");
  const version = formatVersion(params);
  const tipsOnly = lastValue(params, "tipsonly") === "1";
  const lastpushid = lastReplicated(log);
  if (start === undefined && users.length === 0 && changesets.length === 0) {
    // The last pushes, ten a page, upper bounds ignored: the LIMIT counts pushlog rows, a stripped
    // push's included, and `tipsonly` passes over a push without changesets.
    checkBranch(log, branch);
    const pushes = selectPushes(log, { lastpushid, branch, offset: Math.max(0, (page - 1) * PUSHES_PER_PAGE), limit: PUSHES_PER_PAGE });
    return { version, lastpushid, entries: pushes.map(({ push, nodes }) => ({ push, nodes: tipsOnly && nodes.length > 0 ? nodes.slice(0, 1) : nodes })) };
  }
  const pushes = selectPushes(log, { lastpushid, branch, users, ...rangeOf(log, start, end, changesets, branch) });
  const entries = pushes.map(({ push, nodes }) => {
    // `[push.nodes[0]]` of a push whose changesets were all stripped is an IndexError.
    if (tipsOnly && nodes.length === 0) throw new HgUncaught("IndexError: list index out of range");
    return { push, nodes: tipsOnly ? nodes.slice(0, 1) : nodes };
  });
  return { version, entries, lastpushid };
}

interface Selection {
  lastpushid: number;
  branch: string | null;
  /** Exclusive lower and inclusive upper push id; exclusive push times. */
  above?: number;
  atMost?: number;
  after?: number;
  before?: number;
  users?: string[];
  /** Push ids of the `changeset` filter (a changeset without a push matches none). */
  ofNodes?: Array<number | undefined>;
  offset?: number;
  limit?: number;
}

/**
 * The bounds in `do_query`'s order: `int()` of the id bounds, then in `pushlog.pushes` the branch,
 * the pushlog database (none until a first push: nothing is looked up), the node bounds, the filter.
 */
function rangeOf(log: Changelog, start: Bound | undefined, end: Bound | undefined, changesets: string[], branch: string | null): Partial<Selection> {
  const range: Partial<Selection> = { above: 0 };
  if (start?.kind === "id") range.above = pythonInt(start.value);
  if (end?.kind === "id") range.atMost = pythonInt(end.value);
  if (start?.kind === "date") range.after = start.value;
  if (end?.kind === "date") range.before = end.value;
  checkBranch(log, branch);
  if (!log.hasPushlog) return { ...range, atMost: -1 };
  // A changeset that came without a push (pulled) starts at 0; as an end it has no `.pushid`.
  if (start?.kind === "node") range.above = log.pushOf(revsymbol(log, start.value).node)?.id ?? 0;
  if (end?.kind === "node") {
    const pushId = log.pushOf(revsymbol(log, end.value).node)?.id;
    if (pushId === undefined) throw new HgUncaught("AttributeError: 'NoneType' object has no attribute 'pushid'");
    range.atMost = pushId;
  }
  if (changesets.length > 0) range.ofNodes = changesets.map((symbol) => log.pushOf(revsymbol(log, symbol).node)?.id);
  return range;
}

/** `if branch and not self.repo.lookupbranch(branch)`: a name that is no branch must be a revision. */
function checkBranch(log: Changelog, branch: string | null): void {
  if (branch && !log.visible().some((c) => c.branch === branch)) revsymbol(log, branch);
}

/**
 * The SQL of `pushlog.pushes`, newest first, each push with its nodes newest first. The branch
 * filter keeps the pushes with a changeset on it; a push without changesets has one row whose node is
 * None, and `repo[None]` is the working directory, on `default` in a server's repository.
 */
function selectPushes(log: Changelog, s: Selection): Entry[] {
  const chosen: Push[] = [];
  for (const push of log.pushes.values()) {
    if (push.id > s.lastpushid || (s.above !== undefined && push.id <= s.above) || (s.atMost !== undefined && push.id > s.atMost)) continue;
    if ((s.after !== undefined && push.date <= s.after) || (s.before !== undefined && push.date >= s.before)) continue;
    if (s.users?.length && !s.users.includes(push.user)) continue;
    if (s.ofNodes && !s.ofNodes.includes(push.id)) continue;
    chosen.push(push);
  }
  chosen.sort((a, b) => b.id - a.id);
  const page = s.limit === undefined ? chosen : chosen.slice(s.offset ?? 0, (s.offset ?? 0) + s.limit);
  const entries = page.map((push) => ({ push, nodes: [...push.nodes].reverse() }));
  if (!s.branch) return entries;
  const onBranch = (node: string) => log.byNode.get(node)?.branch === s.branch;
  return entries
    .map(({ push, nodes }) => ({ push, nodes: nodes.filter(onBranch), keep: nodes.length === 0 ? s.branch === "default" : nodes.some(onBranch) }))
    .filter((e) => e.keep)
    .map(({ push, nodes }) => ({ push, nodes }));
}

/** The first of the keys present (startdate > fromchange > startID, enddate > tochange > endID). */
function bound(params: URLSearchParams, [dateKey, nodeKey, idKey]: [string, string, string], now: number): Bound | undefined {
  const pick = (key: string) => lastValue(params, key) ?? "";
  if (params.has(dateKey)) return { kind: "date", value: pushlogDate(pick(dateKey), now) };
  if (params.has(nodeKey)) return { kind: "node", value: pick(nodeKey) };
  if (params.has(idKey)) return { kind: "id", value: pick(idKey) };
  return undefined;
}

function formatVersion(params: URLSearchParams): 1 | 2 {
  const text = lastValue(params, "version") ?? "1";
  let version: number;
  try {
    version = pythonInt(text);
  } catch {
    throw new HgErrorResponse(500, "version parameter must be an integer");
  }
  if (version < 1 || version > 2) throw new HgErrorResponse(500, "version parameter must be 1 or 2");
  return version as 1 | 2;
}

/** `last_push_id_replicated`: min(the replicated watermark, the last id); pushes replicate in order. */
export function lastReplicated(log: Changelog): number {
  let last = 0;
  let waiting = Number.POSITIVE_INFINITY;
  for (const push of log.pushes.values()) {
    last = Math.max(last, push.id);
    if (!push.replicated) waiting = Math.min(waiting, push.id);
  }
  return Math.min(last, waiting - 1);
}
