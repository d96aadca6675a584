// A repository's changelog and pushlog, and what Mercurial derives from them: the `served` view
// (mercurial/repoview.py), the push of each changeset, manifests, children and tip. Each derived fact
// is computed when first asked and kept until the next change: a test's thousands of pushes that are
// only listed cost no more than their changesets.
import { Changeset, type ChangesetDetails, type Push } from "./repository.ts";

interface Derived {
  filtered?: Set<string>;
  children?: Map<string, string[]>;
  pushOfNode?: Map<string, number>;
  manifests?: Map<string, Map<string, string>>;
}

export class Changelog {
  /** The unfiltered changelog: a changeset's index is its revision number. */
  revs: Changeset[] = [];
  readonly byNode = new Map<string, Changeset>();
  readonly pushes = new Map<number, Push>();
  /** When its store last changed (hgwebdir's `lastchange`), Unix seconds. */
  lastChange: number;
  /** Whether a changeset is obsolete or secret: without one the served view is the whole changelog. */
  private mayFilter = false;
  private derived: Derived = {};

  constructor(now: number) {
    this.lastChange = Math.floor(now);
  }

  add(node: string, details: ChangesetDetails, defaults: { date: number; gitCommit?: string | null }, now: number): Changeset {
    const known = this.byNode.get(node);
    if (known) return known;
    const tip = this.revs.at(-1)?.node;
    const changeset = new Changeset(node, details, { date: defaults.date, previous: tip, gitCommit: defaults.gitCommit ?? null });
    this.revs.push(changeset);
    this.byNode.set(node, changeset);
    if (changeset.obsolete || changeset.phase === "secret") this.mayFilter = true;
    this.touch(now);
    return changeset;
  }

  /** A pushlog row and its changesets' rows (a push id given again replaces the row). */
  addPush(push: Push, now: number): void {
    this.pushes.set(push.id, push);
    this.touch(now);
  }

  /** `hg strip` of these changesets: gone from the changelog, and from their push (its row stays). */
  strip(nodes: readonly string[], now: number): void {
    const gone = new Set(nodes);
    this.revs = this.revs.filter((c) => !gone.has(c.node));
    for (const node of gone) this.byNode.delete(node);
    for (const push of this.pushes.values()) if (push.nodes.some((n) => gone.has(n))) push.nodes = push.nodes.filter((n) => !gone.has(n));
    this.touch(now);
  }

  touch(now: number): void {
    this.lastChange = Math.floor(now);
    this.derived = {};
  }

  /** Whether the pushlog database exists (pushlog `_getconn` creates it with the first push). */
  get hasPushlog(): boolean {
    return this.pushes.size > 0;
  }

  /** The push that brought a changeset (pushlog `pushfromnode`), undefined for one that came otherwise. */
  pushOf(node: string): Push | undefined {
    this.derived.pushOfNode ??= new Map([...this.pushes.values()].flatMap((p) => p.nodes.map((n) => [n, p.id] as const)));
    const id = this.derived.pushOfNode.get(node);
    return id === undefined ? undefined : this.pushes.get(id);
  }

  /**
   * Outside the `served` view (mercurial/repoview.py): secret, or obsolete without a descendant that is
   * not hidden (`computehidden`: such a descendant pins its obsolete ancestors).
   */
  isFiltered(node: string): boolean {
    return this.mayFilter && this.filtered().has(node);
  }

  visible(): readonly Changeset[] {
    if (!this.mayFilter) return this.revs;
    const filtered = this.filtered();
    return this.revs.filter((c) => !filtered.has(c.node));
  }

  /** The served view's tip: its highest revision, or undefined for an empty repository. */
  tip(): Changeset | undefined {
    return this.visible().at(-1);
  }

  children(node: string): string[] {
    if (!this.derived.children) {
      const children = new Map<string, string[]>();
      for (const c of this.visible()) for (const p of c.parents) children.set(p, [...(children.get(p) ?? []), c.node]);
      this.derived.children = children;
    }
    return this.derived.children.get(node) ?? [];
  }

  /** The files and their texts at a changeset: its first parent's, the second's added, then its own changes. */
  manifest(node: string): ReadonlyMap<string, string> {
    const manifests = (this.derived.manifests ??= new Map<string, Map<string, string>>());
    const chain: Changeset[] = [];
    for (let c = this.byNode.get(node); c && !manifests.has(c.node); c = this.byNode.get(c.parents[0] ?? "")) chain.push(c);
    for (const c of chain.reverse()) {
      const files = new Map(manifests.get(c.parents[0] ?? "") ?? []);
      const second = c.parents[1];
      if (second !== undefined) for (const [f, text] of this.manifest(second)) if (!files.has(f)) files.set(f, text);
      for (const f of c.files) {
        if (c.removed.includes(f)) files.delete(f);
        else files.set(f, c.textOf(f));
      }
      manifests.set(c.node, files);
    }
    return manifests.get(node) ?? new Map();
  }

  private filtered(): Set<string> {
    if (this.derived.filtered) return this.derived.filtered;
    const pinned = new Set<string>();
    const filtered = new Set<string>();
    for (let i = this.revs.length - 1; i >= 0; i--) {
      const c = this.revs[i] as Changeset;
      const hidden = c.obsolete && !pinned.has(c.node);
      if (!hidden) for (const p of c.parents) pinned.add(p);
      if (hidden || c.phase === "secret") filtered.add(c.node);
    }
    this.derived.filtered = filtered;
    return filtered;
  }
}
