// Unified diff hunks of two texts as Mercurial 6.3's mercurial/mdiff.py `unidiff` and `_unidiff` write
// them (3 lines of context, `@@ -a,n +b,m @@` always with both lengths, the missing-newline marker).
// The matching lines come from a longest-common-run recursion like bdiff.c's; on ties between equally
// long runs the two may choose differently (bdiff.c prefers runs nearer the middle).

const CONTEXT = 3;
const NO_NEWLINE = "\\ No newline at end of file\n";

/** mdiff.splitnewlines: lines keeping their `\n`, the last without one if the text lacks it. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => `${l}\n`);
  const last = lines.pop() as string;
  if (last !== "\n") lines.push(last.slice(0, -1));
  return lines;
}

/** The header lines and hunk lines of `unidiff`; `a`/`b` undefined for an added/removed file. */
export function unidiff(a: string | undefined, aLabel: string, b: string | undefined, bLabel: string): string[] | undefined {
  if (!a && !b) return undefined;
  if (!a) {
    const lines = splitLines(b as string);
    return marked([aLabel, bLabel, `@@ -0,0 +1,${lines.length} @@\n`, ...lines.map((l) => `+${l}`)], !(b as string).endsWith("\n"));
  }
  if (!b) {
    const lines = splitLines(a);
    return marked([aLabel, bLabel, `@@ -1,${lines.length} +0,0 @@\n`, ...lines.map((l) => `-${l}`)], !a.endsWith("\n"));
  }
  const hunks = changedHunks(a, b);
  return hunks.length === 0 ? undefined : [aLabel, bLabel, ...hunks.flat()];
}

function marked(lines: string[], withoutNewline: boolean): string[] {
  if (!withoutNewline) return lines;
  lines[lines.length - 1] += "\n";
  return [...lines, NO_NEWLINE];
}

/** `_unidiff`: the changed runs between matching blocks, joined when their contexts touch. */
function changedHunks(t1: string, t2: string): string[][] {
  const [l1, l2] = [splitLines(t1), splitLines(t2)];
  const hunks: string[][] = [];
  let hunk: { astart: number; a2: number; bstart: number; b2: number; delta: string[] } | undefined;
  for (const [a1, a2, b1, b2] of changedBlocks(l1, l2)) {
    const astart = Math.max(0, a1 - CONTEXT);
    if (hunk && astart < hunk.a2 + CONTEXT + 1) {
      hunk.delta.push(...l1.slice(hunk.a2, a1).map((x) => ` ${x}`));
      Object.assign(hunk, { a2, b2 });
    } else {
      if (hunk) hunks.push(finishHunk(hunk, l1, l2, t1, t2));
      hunk = { astart, a2, bstart: Math.max(0, b1 - CONTEXT), b2, delta: l1.slice(astart, a1).map((x) => ` ${x}`) };
    }
    hunk.delta.push(...l1.slice(a1, a2).map((x) => `-${x}`), ...l2.slice(b1, b2).map((x) => `+${x}`));
  }
  if (hunk) hunks.push(finishHunk(hunk, l1, l2, t1, t2));
  return hunks;
}

/** `yieldhunk`: trailing context, the range line, and the missing-newline markers. */
function finishHunk(
  h: { astart: number; a2: number; bstart: number; b2: number; delta: string[] },
  l1: string[],
  l2: string[],
  t1: string,
  t2: string,
): string[] {
  const aend = Math.min(h.a2 + CONTEXT, l1.length);
  const alen = aend - h.astart;
  const blen = h.b2 - h.bstart + aend - h.a2;
  const astart = alen ? h.astart + 1 : h.astart;
  const bstart = blen ? h.bstart + 1 : h.bstart;
  const lines = [`@@ -${astart},${alen} +${bstart},${blen} @@\n`, ...h.delta, ...l1.slice(h.a2, aend).map((x) => ` ${x}`)];
  let skip = false;
  if (!t1.endsWith("\n") && astart + alen === l1.length + 1) {
    const i = lines.findLastIndex((l) => l.startsWith("-") || l.startsWith(" "));
    if (i >= 0) {
      skip = (lines[i] as string).startsWith(" ");
      lines[i] += "\n";
      lines.splice(i + 1, 0, NO_NEWLINE);
    }
  }
  if (!skip && !t2.endsWith("\n") && bstart + blen === l2.length + 1) {
    const i = lines.findLastIndex((l) => l.startsWith("+"));
    if (i >= 0) {
      lines[i] += "\n";
      lines.splice(i + 1, 0, NO_NEWLINE);
    }
  }
  return lines;
}

/** `allblocks`' changed (`!`) blocks: the gaps between matching runs, as [a1, a2, b1, b2]. */
function changedBlocks(l1: string[], l2: string[]): Array<[number, number, number, number]> {
  const matches = [...matchingRuns(l1, 0, l1.length, l2, 0, l2.length), [l1.length, l2.length, 0] as const];
  const blocks: Array<[number, number, number, number]> = [];
  let [a, b] = [0, 0];
  for (const [i, j, k] of matches) {
    if (a !== i || b !== j) blocks.push([a, i, b, j]);
    [a, b] = [i + k, j + k];
  }
  return blocks;
}

/** The longest run of equal lines in the ranges, then the same left and right of it: [i, j, length]. */
function matchingRuns(a: string[], a1: number, a2: number, b: string[], b1: number, b2: number): Array<readonly [number, number, number]> {
  let best: [number, number, number] = [a1, b1, 0];
  for (let i = a1; i < a2; i++) {
    for (let j = b1; j < b2; j++) {
      let k = 0;
      while (i + k < a2 && j + k < b2 && a[i + k] === b[j + k]) k++;
      if (k > best[2]) best = [i, j, k];
    }
  }
  const [i, j, k] = best;
  if (k === 0) return [];
  return [...matchingRuns(a, a1, i, b, b1, j), best, ...matchingRuns(a, i + k, a2, b, j + k, b2)];
}
