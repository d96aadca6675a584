// A repository's changelog and pushlog, and what Mercurial derives from them: the `served` view
// (mercurial/repoview.py), manifests, children and tip. Derived facts are cached until the next change.
import { makeChangeset, type Changeset, type ChangesetDetails, type Push } from "./repository.ts";

export class Changelog {
  /** The unfiltered changelog: a changeset's index is its revision number. */
  revs: Changeset[] = [];
  readonly byNode = new Map<string, Changeset>();
  readonly pushes = new Map<number, Push>();
  readonly pushOfNode = new Map<string, number>();
  /** When its store last changed (hgwebdir's `lastchange`), Unix seconds. */
  lastChange: number;
  private derived: { filtered: Set<string>; children: Map<string, string[]>; manifests: Map<string, Map<string, string>> } | undefined;

  constructor(now: number) {
    this.lastChange = now;
  }

  add(node: string, details: ChangesetDetails, date: number, now: number): Changeset {
    const known = this.byNode.get(node);
    if (known) return known;
    const tip = this.revs.at(-1)?.node;
    const changeset = makeChangeset(node, details, { date, parents: tip === undefined ? [] : [tip] });
    this.revs.push(changeset);
    this.byNode.set(node, changeset);
    this.touch(now);
    return changeset;
  }

  addPush(push: Push, now: number): void {
    const old = this.pushes.get(push.id);
    for (const node of old?.nodes ?? []) this.pushOfNode.delete(node);
    this.pushes.set(push.id, push);
    for (const node of push.nodes) this.pushOfNode.set(node, push.id);
    this.touch(now);
  }

  /** `hg strip` of these changesets: gone from the changelog, and from their push (its row stays). */
  strip(nodes: readonly string[], now: number): void {
    const gone = new Set(nodes);
    this.revs = this.revs.filter((c) => !gone.has(c.node));
    for (const node of gone) {
      this.byNode.delete(node);
      const pushId = this.pushOfNode.get(node);
      this.pushOfNode.delete(node);
      const push = pushId === undefined ? undefined : this.pushes.get(pushId);
      if (push) push.nodes = push.nodes.filter((n) => n !== node);
    }
    this.touch(now);
  }

  touch(now: number): void {
    this.lastChange = Math.floor(now);
    this.derived = undefined;
  }

  /** Whether the pushlog database exists (pushlog `_getconn` creates it with the first push). */
  get hasPushlog(): boolean {
    return this.pushes.size > 0;
  }

  /**
   * Outside the `served` view (mercurial/repoview.py): secret, or obsolete without a descendant that is
   * not hidden (`computehidden`: such a descendant pins its obsolete ancestors).
   */
  isFiltered(node: string): boolean {
    return this.derive().filtered.has(node);
  }

  visible(): Changeset[] {
    const { filtered } = this.derive();
    return this.revs.filter((c) => !filtered.has(c.node));
  }

  /** The served view's tip: its highest revision, or undefined for an empty repository. */
  tip(): Changeset | undefined {
    const { filtered } = this.derive();
    for (let i = this.revs.length - 1; i >= 0; i--) if (!filtered.has((this.revs[i] as Changeset).node)) return this.revs[i];
    return undefined;
  }

  children(node: string): string[] {
    return this.derive().children.get(node) ?? [];
  }

  /** The files and their texts at a changeset: its first parent's, the second's added, then its own changes. */
  manifest(node: string): ReadonlyMap<string, string> {
    const { manifests } = this.derive();
    const chain: Changeset[] = [];
    for (let c = this.byNode.get(node); c && !manifests.has(c.node); c = this.byNode.get(c.parents[0] ?? "")) chain.push(c);
    for (const c of chain.reverse()) {
      const files = new Map(manifests.get(c.parents[0] ?? "") ?? []);
      const second = c.parents[1];
      if (second !== undefined) for (const [f, text] of this.manifest(second)) if (!files.has(f)) files.set(f, text);
      for (const [f, text] of c.contents) files.set(f, text);
      for (const f of c.removed) files.delete(f);
      manifests.set(c.node, files);
    }
    return manifests.get(node) ?? new Map();
  }

  private derive(): NonNullable<Changelog["derived"]> {
    if (this.derived) return this.derived;
    const children = new Map<string, string[]>();
    for (const c of this.revs) for (const p of c.parents) children.set(p, [...(children.get(p) ?? []), c.node]);
    const pinned = new Set<string>();
    const filtered = new Set<string>();
    for (let i = this.revs.length - 1; i >= 0; i--) {
      const c = this.revs[i] as Changeset;
      const hidden = c.obsolete && !pinned.has(c.node);
      if (!hidden) for (const p of c.parents) pinned.add(p);
      if (hidden || c.phase === "secret") filtered.add(c.node);
    }
    const visibleChildren = new Map([...children].map(([p, cs]) => [p, cs.filter((c) => !filtered.has(c))]));
    this.derived = { filtered, children: visibleChildren, manifests: new Map() };
    return this.derived;
  }
}
