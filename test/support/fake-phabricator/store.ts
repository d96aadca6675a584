// What the fake Phabricator holds: repositories, their commits in Phabricator's database and in its
// working copy, and the Differential and Harbormaster objects of a review. Each table numbers its
// rows from 1, as each of Phabricator's MySQL tables does (`id` AUTO_INCREMENT), and every PHID is
// `PHID-<TYPE>-` and 20 lowercase letters or digits (PhabricatorPHID::generateNewPHID).

export type Vcs = "hg" | "git";

export interface RepositoryRecord {
  id: number;
  phid: string;
  callsign: string;
  vcs: Vcs;
  name: string;
  /** The repository's short name ("slug"): its pages live under /source/<shortName>/ when it has one. */
  shortName: string | null;
  dateCreated: number;
}

export interface Identity {
  name: string;
  email: string;
  raw: string;
  identityPHID: string;
}

export interface CommitRecord {
  id: number;
  phid: string;
  node: string;
  repository: RepositoryRecord;
  /** The commit's date (PhabricatorRepositoryCommit `epoch`), set when the commit is discovered. */
  epoch: number;
  /** Discovery writes the row; the import workers write the message and the author afterwards. */
  imported: boolean;
  message: string;
  author: Identity;
}

/** A commit as a test describes it; what it leaves out comes from a fixture. */
export interface FakeCommit {
  node: string;
  id?: number;
  phid?: string;
  epoch?: number;
  message?: string;
  author?: { name: string; email: string; identityPHID?: string };
}

/** The null revision: every Mercurial working copy resolves it, no database has a row for it. */
export const NULL_NODE = "0".repeat(40);

const FIXTURE_EPOCH = 1714564800;
const FIXTURE_AUTHOR: Identity = {
  name: "Fixture",
  email: "fixture@example.com",
  raw: "Fixture <fixture@example.com>",
  identityPHID: "PHID-RIDT-aaaaaaaaaaaaaaaaaaaa",
};

/** Per-table row ids and PHIDs that never repeat within one fake. */
export class Ids {
  private readonly next = new Map<string, number>();
  private serial = 0;

  /** The next id of `table`, or `wanted` (a recorded id) with the counter moved past it. */
  id(table: string, wanted?: number): number {
    const next = this.next.get(table) ?? 1;
    const id = wanted ?? next;
    this.next.set(table, Math.max(next, id + 1));
    return id;
  }

  phid(type: string): string {
    return `PHID-${type}-${(++this.serial).toString(36).padStart(20, "0")}`;
  }
}

export class RepositoryStore {
  readonly repositories = new Map<string, RepositoryRecord>();
  /** Rows of diffusion.commit.search: discovered commits, imported or not, by node. */
  readonly commits = new Map<string, CommitRecord[]>();
  /** What each repository's working copy holds (pulled, whether or not discovered), by callsign. */
  readonly workingCopies = new Map<string, Set<string>>();

  private readonly ids: Ids;

  constructor(ids: Ids) {
    this.ids = ids;
  }

  add(callsign: string, options: { vcs?: Vcs; name?: string; shortName?: string | null; phid?: string }): RepositoryRecord {
    const known = this.repositories.get(callsign);
    if (known) return known;
    const repository: RepositoryRecord = {
      id: this.ids.id("repository"),
      phid: options.phid ?? this.ids.phid("REPO"),
      callsign,
      vcs: options.vcs ?? "hg",
      name: options.name ?? callsign.toLowerCase(),
      shortName: options.shortName ?? null,
      dateCreated: 1539455983,
    };
    this.repositories.set(callsign, repository);
    // `hg log -r 0000000000000000000000000000000000000000` finds the null revision in any Mercurial
    // repository; Git has no such object.
    this.workingCopies.set(callsign, new Set(repository.vcs === "hg" ? [NULL_NODE] : []));
    return repository;
  }

  get(callsign: string): RepositoryRecord {
    const repository = this.repositories.get(callsign);
    if (!repository) throw new Error(`the fake has no repository ${callsign}: addRepository first`);
    return repository;
  }

  /** In the working copy only: `hg pull` has run, discovery has not (no row yet). */
  pull(callsign: string, nodes: readonly (string | FakeCommit)[]): void {
    this.get(callsign);
    const copy = this.workingCopies.get(callsign) as Set<string>;
    for (const item of nodes) copy.add(typeof item === "string" ? item : item.node);
  }

  /** Discovered (a row), and imported when `imported`; a commit already imported stays imported. */
  discover(callsign: string, nodes: readonly (string | FakeCommit)[], imported: boolean): void {
    const repository = this.get(callsign);
    this.pull(callsign, nodes);
    for (const item of nodes) {
      const spec = typeof item === "string" ? { node: item } : item;
      const rows = this.commits.get(spec.node) ?? [];
      const known = rows.find((c) => c.repository === repository);
      if (known) {
        known.imported ||= imported;
        continue;
      }
      rows.push(this.newCommit(repository, spec, imported));
      this.commits.set(spec.node, rows);
    }
  }

  private newCommit(repository: RepositoryRecord, spec: FakeCommit, imported: boolean): CommitRecord {
    const author = spec.author
      ? { ...spec.author, raw: `${spec.author.name} <${spec.author.email}>`, identityPHID: spec.author.identityPHID ?? FIXTURE_AUTHOR.identityPHID }
      : FIXTURE_AUTHOR;
    return {
      id: this.ids.id("commit", spec.id),
      phid: spec.phid ?? this.ids.phid("CMIT"),
      node: spec.node,
      repository,
      epoch: spec.epoch ?? FIXTURE_EPOCH,
      imported,
      message: spec.message ?? "fixture",
      author,
    };
  }

  /** Every row, in no particular order. */
  allCommits(): CommitRecord[] {
    return [...this.commits.values()].flat();
  }

  /**
   * PhabricatorRepositoryQuery::withIdentifiers: a number is an id, `PHID-REPO-…` a PHID, upper-case
   * letters a callsign, anything else a short name (src/applications/repository/query/PhabricatorRepositoryQuery.php).
   */
  byIdentifier(identifier: string): RepositoryRecord | undefined {
    const all = [...this.repositories.values()];
    if (/^[1-9]\d*$/.test(identifier)) return all.find((r) => r.id === Number(identifier));
    if (identifier.startsWith("PHID-REPO-")) return all.find((r) => r.phid === identifier);
    if (/^[A-Z]+$/.test(identifier)) return this.repositories.get(identifier);
    return all.find((r) => r.shortName === identifier);
  }
}
