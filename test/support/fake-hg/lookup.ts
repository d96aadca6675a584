// A revision symbol to a changeset, as Mercurial 6.3's mercurial/scmutil.py `revsymbol` reads it in
// hgweb's `served` view: ".", "tip", "null", a revision number, a full node, a branch name, a node
// prefix. (No bookmarks or tags but tip: the fake's repositories have none.)
import type { Changelog } from "./changelog.ts";
import { HgLookupError, unknownRevision } from "./errors.ts";
import { Changeset, NULL_NODE } from "./repository.ts";

/** The null revision, what `null` and an empty repository's tip are. */
export const NULL_CHANGESET = new Changeset(NULL_NODE, { author: "", desc: "", files: [] }, { date: 0, previous: undefined, gitCommit: null });

/** scmutil `_filterederror` for a view that is not `visible*`. */
const filtered = (symbol: string) => new HgLookupError(`filtered revision '${symbol}' (not in 'served' subset)`);

export function revsymbol(log: Changelog, symbol: string): Changeset {
  // "." is the working directory's parent: the server's repositories have no working copy.
  if (symbol === "." || symbol === "null") return NULL_CHANGESET;
  if (symbol === "tip") return log.tip() ?? NULL_CHANGESET;
  const byNumber = revisionNumber(log, symbol);
  if (byNumber) return served(log, byNumber, symbol);
  const full = /^[0-9a-f]{40}$/i.test(symbol) ? log.byNode.get(symbol.toLowerCase()) : undefined;
  if (full) return served(log, full, symbol);
  const branchTip = log.visible().findLast((c) => c.branch === symbol);
  if (branchTip) return branchTip;
  const byPrefix = prefixMatch(log, symbol);
  if (byPrefix) return served(log, byPrefix, symbol);
  throw unknownRevision(symbol);
}

function served(log: Changelog, changeset: Changeset, symbol: string): Changeset {
  if (log.isFiltered(changeset.node)) throw filtered(symbol);
  return changeset;
}

/** `int(symbol)` written the canonical way (`b'%d' % r == symbol`), negative counting from the end. */
function revisionNumber(log: Changelog, symbol: string): Changeset | undefined {
  if (!/^-?(0|[1-9]\d*)$/.test(symbol)) return undefined;
  const r = Number(symbol) < 0 ? Number(symbol) + log.revs.length : Number(symbol);
  return log.revs[r];
}

/**
 * `resolvehexnodeidprefix`: a prefix (an `x` in front dropped) matched in the unfiltered changelog;
 * two matches are an AmbiguousPrefixLookupError, a LookupError that hgweb words `revision not found`.
 */
function prefixMatch(log: Changelog, symbol: string): Changeset | undefined {
  const prefix = (symbol.startsWith("x") ? symbol.slice(1) : symbol).toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(prefix)) return undefined;
  const matches = log.revs.filter((c) => c.node.startsWith(prefix));
  if (matches.length > 1) throw new HgLookupError(`revision not found: ${symbol}`);
  return matches[0];
}
