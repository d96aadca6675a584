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

/**
 * A row of diffusion.commit.search. Kept small: a soak test holds thousands of them in the process
 * it measures, so the PHID is derived from the id unless a recorded one was given.
 */
export class CommitRecord {
  readonly id: number;
  readonly node: string;
  readonly repository: RepositoryRecord;
  /** The commit's date (PhabricatorRepositoryCommit `epoch`), set when the commit is discovered. */
  readonly epoch: number;
  /** Discovery writes the row; the import workers write the message and the author afterwards. */
  imported: boolean;
  readonly message: string;
  readonly author: Identity;
  private readonly givenPHID: string | undefined;

  constructor(fields: {
    id: number;
    node: string;
    repository: RepositoryRecord;
    epoch: number;
    imported: boolean;
    message: string;
    author: Identity;
    phid?: string | undefined;
  }) {
    this.id = fields.id;
    this.node = fields.node;
    this.repository = fields.repository;
    this.epoch = fields.epoch;
    this.imported = fields.imported;
    this.message = fields.message;
    this.author = fields.author;
    this.givenPHID = fields.phid;
  }

  get phid(): string {
    return this.givenPHID ?? `PHID-CMIT-${this.id.toString(36).padStart(20, "0")}`;
  }
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
  /** Rows of diffusion.commit.search (discovered commits, imported or not), by repository and node. */
  private readonly rows = new Map<RepositoryRecord, Map<string, CommitRecord>>();
  /** What each working copy holds beyond its rows: pulled commits discovery has not reached. */
  private readonly pulled = new Map<RepositoryRecord, Set<string>>();
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
    this.rows.set(repository, new Map());
    // `hg log -r 0000000000000000000000000000000000000000` finds the null revision in any Mercurial
    // repository; Git has no such object.
    this.pulled.set(repository, new Set(repository.vcs === "hg" ? [NULL_NODE] : []));
    return repository;
  }

  get(callsign: string): RepositoryRecord {
    const repository = this.repositories.get(callsign);
    if (!repository) throw new Error(`the fake has no repository ${callsign}: addRepository first`);
    return repository;
  }

  /** In the working copy only: `hg pull` has run, discovery has not (no row yet). */
  pull(callsign: string, nodes: readonly (string | FakeCommit)[]): void {
    const repository = this.get(callsign);
    const rows = this.rows.get(repository) as Map<string, CommitRecord>;
    const pulled = this.pulled.get(repository) as Set<string>;
    for (const item of nodes) {
      const node = typeof item === "string" ? item : item.node;
      if (!rows.has(node)) pulled.add(node);
    }
  }

  /** Discovered (a row), and imported when `imported`; a commit already imported stays imported. */
  discover(callsign: string, nodes: readonly (string | FakeCommit)[], imported: boolean): void {
    const repository = this.get(callsign);
    const rows = this.rows.get(repository) as Map<string, CommitRecord>;
    const pulled = this.pulled.get(repository) as Set<string>;
    for (const item of nodes) {
      const spec = typeof item === "string" ? { node: item } : item;
      const known = rows.get(spec.node);
      if (known) known.imported ||= imported;
      else rows.set(spec.node, this.newCommit(repository, spec, imported));
      pulled.delete(spec.node);
    }
  }

  private newCommit(repository: RepositoryRecord, spec: FakeCommit, imported: boolean): CommitRecord {
    const author = spec.author
      ? { ...spec.author, raw: `${spec.author.name} <${spec.author.email}>`, identityPHID: spec.author.identityPHID ?? FIXTURE_AUTHOR.identityPHID }
      : FIXTURE_AUTHOR;
    return new CommitRecord({
      id: this.ids.id("commit", spec.id),
      phid: spec.phid,
      node: spec.node,
      repository,
      epoch: spec.epoch ?? FIXTURE_EPOCH,
      imported,
      message: spec.message ?? "fixture",
      author,
    });
  }

  /** The rows of a node, one per repository that has it. */
  commitsOf(node: string): CommitRecord[] {
    const found: CommitRecord[] = [];
    for (const rows of this.rows.values()) {
      const commit = rows.get(node);
      if (commit) found.push(commit);
    }
    return found;
  }

  /** Every row (of one repository), in no particular order. */
  allCommits(repository?: RepositoryRecord): CommitRecord[] {
    const maps = repository ? [this.rows.get(repository) ?? new Map<string, CommitRecord>()] : [...this.rows.values()];
    return maps.flatMap((rows) => [...rows.values()]);
  }

  /** The working copy's commits that start with `prefix`: its rows, and what was pulled and not discovered. */
  inWorkingCopy(repository: RepositoryRecord, prefix: string): string[] {
    const rows = this.rows.get(repository) ?? new Map<string, CommitRecord>();
    const pulled = this.pulled.get(repository) ?? new Set<string>();
    if (rows.has(prefix) || pulled.has(prefix)) return [prefix];
    return [...rows.keys(), ...pulled].filter((node) => node.startsWith(prefix));
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
