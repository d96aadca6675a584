// What the fake's repositories hold: changesets (Mercurial's changelog entries, with the extras
// git-hg-sync and Lando write, their phase and obsolescence markers) and pushes (a row of
// version-control-tools hgext/pushlog/__init__.py's `pushlog` table and its `changesets` rows).

export const NULL_NODE = "0".repeat(40);

/** What a changeset may say about itself; each field has a default (see `Changeset`). */
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

export interface Push {
  id: number;
  user: string;
  date: number;
  /** Its changesets still in the repository (handledestroyed deletes the rows of stripped ones). */
  nodes: string[];
  replicated: boolean;
}

const NONE: readonly string[] = Object.freeze([]);
/** The details of a changeset given none. */
export const NO_DETAILS: ChangesetDetails = Object.freeze({});
const README: readonly string[] = Object.freeze(["README"]);

/**
 * A changeset: its node, date and parents, and the details it was given, each read with its default.
 * It keeps the caller's details object rather than a copy, so that a test's thousands of pushes with
 * no details cost little more than their nodes.
 */
export class Changeset {
  readonly node: string;
  readonly date: number;
  readonly gitCommit: string | null;
  private readonly details: ChangesetDetails;
  /** The previous tip when it came, the parent of a changeset given none. */
  private readonly previous: string | undefined;

  constructor(node: string, details: ChangesetDetails, defaults: { date: number; previous: string | undefined; gitCommit: string | null }) {
    this.node = node;
    this.details = details;
    this.date = details.date ?? defaults.date;
    this.previous = defaults.previous;
    this.gitCommit = defaults.gitCommit ?? details.gitCommit ?? null;
  }

  /** Without the null parent: [] for a root. */
  get parents(): readonly string[] {
    if (this.details.parents) return this.details.parents.filter((p) => p !== NULL_NODE);
    return this.previous === undefined ? NONE : [this.previous];
  }

  get author(): string {
    return this.details.author ?? "Fixture <fixture@example.com>";
  }
  get desc(): string {
    return this.details.desc ?? "fixture";
  }
  get branch(): string {
    return this.details.branch ?? "default";
  }
  /** Sorted, as the changelog stores them: by default those given texts or removed, else README. */
  get files(): readonly string[] {
    const named = [...Object.keys(this.details.contents ?? {}), ...this.removed];
    const files = this.details.files ?? (named.length > 0 ? named : README);
    return files === README ? README : [...new Set(files)].sort();
  }
  get removed(): readonly string[] {
    return this.details.removed ?? NONE;
  }
  /** The text a file it touches and keeps holds: the one given, else its node and a newline. */
  textOf(file: string): string {
    return this.details.contents?.[file] ?? `${this.node}\n`;
  }
  get landingSystem(): string | null {
    return this.details.landingSystem ?? null;
  }
  get phase(): string {
    return this.details.phase ?? "public";
  }
  get obsolete(): boolean {
    return this.details.obsolete ?? false;
  }
  get precursors(): readonly string[] {
    return this.details.precursors ?? NONE;
  }
}
