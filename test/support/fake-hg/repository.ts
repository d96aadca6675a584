// One repository of the fake hg.mozilla.org: its changelog (changesets in revision order), its
// pushlog (version-control-tools hgext/pushlog/__init__.py, a `pushlog` and a `changesets` table) and
// what Mercurial derives from them (the served view, manifests, children, tip).

export const NULL_NODE = "0".repeat(40);

/** What a changeset may say about itself; each field has a default (see `makeChangeset`). */
export interface ChangesetDetails {
  author?: string;
  desc?: string;
  /** Named branch, "default" by default. */
  branch?: string;
  /** Commit date, Unix seconds: the push's by default. */
  date?: number;
  /** Parent nodes: by default the changeset added last to the repository (none for the first). */
  parents?: string[];
  /** The files it touches (ctx.files()): by default those of `contents` and `removed`, else README. */
  files?: string[];
  /** The new text of files it adds or changes; a touched file without one holds its node and a newline. */
  contents?: Record<string, string>;
  /** Files it deletes. */
  removed?: string[];
  /** Its `git_commit` extra (git-hg-sync). */
  gitCommit?: string | null;
  /** Its `moz-landing-system` extra (Lando). */
  landingSystem?: string;
  phase?: "public" | "draft" | "secret";
  /** Made obsolete by a marker: hidden from the served view unless a visible descendant pins it. */
  obsolete?: boolean;
  /** The changesets a marker says this one replaces (`precursors` in full json-pushes). */
  precursors?: string[];
}

export interface Changeset {
  node: string;
  author: string;
  desc: string;
  branch: string;
  date: number;
  /** Without the null parent: [] for a root. */
  parents: string[];
  /** Sorted, as the changelog stores them. */
  files: string[];
  contents: ReadonlyMap<string, string>;
  removed: ReadonlySet<string>;
  gitCommit: string | null;
  landingSystem: string | null;
  phase: string;
  obsolete: boolean;
  precursors: string[];
}

export interface Push {
  id: number;
  user: string;
  date: number;
  /** Its changesets still in the repository (handledestroyed deletes the rows of stripped ones). */
  nodes: string[];
  replicated: boolean;
}

export function makeChangeset(node: string, details: ChangesetDetails, defaults: { date: number; parents: string[] }): Changeset {
  const desc = details.desc ?? "fixture";
  const removed = new Set(details.removed ?? []);
  const named = [...Object.keys(details.contents ?? {}), ...removed];
  const files = [...new Set(details.files ?? (named.length > 0 ? named : ["README"]))].sort();
  const contents = new Map(files.filter((f) => !removed.has(f)).map((f) => [f, details.contents?.[f] ?? `${node}\n`]));
  return {
    node,
    author: details.author ?? "Fixture <fixture@example.com>",
    desc,
    branch: details.branch ?? "default",
    date: details.date ?? defaults.date,
    parents: (details.parents ?? defaults.parents).filter((p) => p !== NULL_NODE),
    files,
    contents,
    removed,
    gitCommit: details.gitCommit ?? null,
    landingSystem: details.landingSystem ?? null,
    phase: details.phase ?? "public",
    obsolete: details.obsolete ?? false,
    precursors: details.precursors ?? [],
  };
}
