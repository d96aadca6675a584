// json-rev/<symbol>: Mercurial 6.3's webcommands.py `changeset` with hgweb/webutil.py
// `changesetentry`, rendered by version-control-tools' hgtemplates/json/map `changeset` template, with
// the push fields of hgext/pushlog/__init__.py `addpushmetadata` and the extras of hgext/hgmo
// `addmetadata` (landingsystem, git_commit, backedoutby).
import type { Changelog } from "./changelog.ts";
import { datestr } from "./dates.ts";
import { NULL_CHANGESET, revsymbol } from "./lookup.ts";
import { NULL_NODE, type Changeset } from "./repository.ts";
import { unidiff } from "./unidiff.ts";

export function jsonRev(log: Changelog, symbol: string): Record<string, unknown> {
  const c = revsymbol(log, symbol);
  const push = log.pushOf(c.node);
  return {
    node: c.node,
    date: [c.date, 0],
    desc: c.desc,
    backedoutby: backedOutBy(log, c) ?? "",
    branch: c.branch,
    bookmarks: [],
    tags: (log.tip() ?? NULL_CHANGESET).node === c.node ? ["tip"] : [],
    user: c.author,
    parents: c.parents,
    children:
      c.node === NULL_NODE
        ? log
            .visible()
            .filter((v) => v.parents.length === 0)
            .map((v) => v.node)
        : log.children(c.node),
    files: c.files.map((file) => ({ file, status: fileStatus(log, c, file) })),
    diff: diffBlocks(log, c),
    phase: c.phase,
    // The template's `{pushid|json}` of a key addpushmetadata did not set (no push: pulled) is "".
    pushid: push?.id ?? "",
    pushdate: push ? [push.date, 0] : "",
    pushuser: push?.user ?? "",
    landingsystem: c.landingSystem,
    git_commit: c.gitCommit,
  };
}

/** webutil `_listfilesgen`: removed when not in the changeset, added when in neither parent. */
function fileStatus(log: Changelog, c: Changeset, file: string): string {
  if (!log.manifest(c.node).has(file)) return "removed";
  return c.parents.some((p) => log.manifest(p).has(file)) ? "modified" : "added";
}

/**
 * webutil.diffs against the first parent: one block per changed file (sorted), its `--- `/`+++ `
 * lines (non-git headers, dated by each side's changeset) and hunks, each line typed by its first
 * character.
 */
function diffBlocks(log: Changelog, c: Changeset): Array<{ blockno: number; lines: Array<{ t: string; n: number; l: string }> }> {
  const parent = log.byNode.get(c.parents[0] ?? "") ?? NULL_CHANGESET;
  const [before, after] = [log.manifest(parent.node), log.manifest(c.node)];
  const files = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort();
  const epoch = `\t${datestr(0)}\n`;
  const blocks = [];
  for (const file of files) {
    const [a, b] = [before.get(file), after.get(file)];
    const aLabel = a === undefined ? `--- /dev/null${epoch}` : `--- a/${file}\t${datestr(parent.date)}\n`;
    const bLabel = b === undefined ? `+++ /dev/null${epoch}` : `+++ b/${file}\t${datestr(c.date)}\n`;
    const lines = binary(a) || binary(b) ? [`Binary file ${file} has changed\n`] : unidiff(a, aLabel, b, bLabel);
    if (!lines) continue;
    const typed = lines.map((l, i) => ({ t: /^[-+@]/.test(l) ? (l[0] as string) : "", n: i + 1, l }));
    blocks.push({ blockno: blocks.length + 1, lines: typed });
  }
  return blocks;
}

const binary = (text: string | undefined) => text?.includes("\0") ?? false;

/**
 * mozhg/util.py `get_backoutbynode`: the first of the changeset's next 99 descendants whose
 * description backs out its short node (commitparser.py `parse_backouts`, single and one-line forms).
 */
function backedOutBy(log: Changelog, c: Changeset): string | undefined {
  const short = c.node.slice(0, 12);
  const line = new Set([c.node]);
  let count = 1;
  for (const d of log.visible()) {
    if (count >= 100) break;
    if (!d.parents.some((p) => line.has(p))) continue;
    line.add(d.node);
    count++;
    const first = d.desc.split("\n")[0] ?? "";
    if (/^(?:backed out|backout|back out)\b/i.test(first) && first.match(/\b[0-9a-f]{12}\b/gi)?.includes(short) === true) return d.node;
  }
  return undefined;
}
