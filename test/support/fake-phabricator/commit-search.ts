// diffusion.commit.search (src/applications/audit/query/PhabricatorCommitSearchEngine.php,
// src/applications/diffusion/query/DiffusionCommitQuery.php, the same in phorgeit/phorge @07c1a513
// and mozilla-conduit/phabricator @69242983):
// - `repositories` takes repository PHIDs only: a callsign or a monogram names no repository, the
//   query throws PhabricatorEmptyQueryException and the answer is an empty list with no error
//   (served/phorge/commit-search-callsign.json, commit-search-monogram.json, commit-search-unknown-phid.json);
// - an identifier is a full hash or a prefix of one: bare, at least 7 characters (shorter ones are
//   dropped) matching `commitIdentifier LIKE 'x%' AND LENGTH(commitIdentifier) = 40`, case-sensitively
//   (commit-search-short-7.json, commit-search-short-6.json, commit-search-uppercase.json); qualified
//   (`r<CALLSIGN>…`, `r<CALLSIGN>:…`, `R<id>:…`), at least 5 characters, in that repository only,
//   whatever the `repositories` constraint (commit-search-qualified.json);
// - the rows come newest first by commit date, then id (DiffusionCommitQuery::getBuiltinOrders `newest`);
// - the other constraints (authors, auditors, statuses…) are accepted and not applied.
import type { CommitRecord, RepositoryRecord, RepositoryStore } from "./store.ts";
import type { SearchSpec } from "./search-engine.ts";

const MINIMUM_UNQUALIFIED_HASH = 7;
const MINIMUM_QUALIFIED_HASH = 5;

/** One identifier's match, or undefined when the query drops it (DiffusionCommitQuery::buildWhereClauseParts). */
function matcherOf(identifier: string, repositories: RepositoryStore): ((c: CommitRecord) => boolean) | undefined {
  const [, scope = "", rest = ""] = /^(?:[rR]([A-Z]+:?|[0-9]+:))?(.*)$/s.exec(identifier) ?? [];
  const repositoryName = scope.replace(/:$/, "");
  if (repositoryName === "") {
    if (rest.length < MINIMUM_UNQUALIFIED_HASH) return undefined;
    return (c) => c.node.length === 40 && c.node.startsWith(rest);
  }
  const repository = repositories.byIdentifier(repositoryName);
  if (!repository || rest.length < MINIMUM_QUALIFIED_HASH) return undefined;
  return (c) => c.repository === repository && (rest.length === 40 ? c.node === rest : c.node.startsWith(rest));
}

function select(repositories: RepositoryStore, constraints: Record<string, unknown>): CommitRecord[] {
  const wantedRepos = constraints.repositories as string[] | undefined;
  let inRepos: Set<RepositoryRecord> | undefined;
  if (wantedRepos && wantedRepos.length > 0) {
    inRepos = new Set([...repositories.repositories.values()].filter((r) => wantedRepos.includes(r.phid)));
    if (inRepos.size === 0) return [];
  }
  const inScope = (c: CommitRecord) => inRepos === undefined || inRepos.has(c.repository);
  const identifiers = constraints.identifiers as string[] | undefined;
  if (!identifiers || identifiers.length === 0) return repositories.allCommits().filter(inScope);
  const matchers = identifiers.map((i) => ({ i, match: matcherOf(i, repositories) })).filter((m) => m.match !== undefined);
  // "No commit identifiers.": every identifier was dropped, so the query finds nothing.
  if (matchers.length === 0) return [];
  const found = new Set<CommitRecord>();
  for (const { i, match } of matchers) {
    // A full bare hash is looked up by node rather than by a scan, for the 100 identifiers of a call.
    const candidates = /^[0-9a-f]{40}$/.test(i) ? repositories.commitsOf(i) : repositories.allCommits();
    for (const commit of candidates) if (inScope(commit) && (match as (c: CommitRecord) => boolean)(commit)) found.add(commit);
  }
  return [...found];
}

const NOBODY = { name: null, email: null, raw: null, identityPHID: null, userPHID: null };

/**
 * PhabricatorRepositoryCommit::getFieldValuesForConduit. Before its import has finished a commit has no
 * identities and empty commit data: the message is "" and the author all null. A Mercurial commit has
 * no committer identity and no author date, so `committer` holds only the commit's `epoch`
 * (served/phorge/commit-search-limit-7.json). For Git, the author's date and a committer identity (the
 * author's, here) are what the Git importer writes; no Git recording backs them.
 */
export function commitFields(commit: CommitRecord, viewPolicy: string): Record<string, unknown> {
  const isGit = commit.repository.vcs === "git";
  const identity = commit.imported
    ? { name: commit.author.name, email: commit.author.email, raw: commit.author.raw, identityPHID: commit.author.identityPHID, userPHID: null }
    : NOBODY;
  return {
    identifier: commit.node,
    repositoryPHID: commit.repository.phid,
    author: { ...identity, epoch: isGit && commit.imported ? commit.epoch : null },
    committer: { ...(isGit ? identity : NOBODY), epoch: commit.epoch },
    isUnreachable: false,
    isImported: commit.imported,
    auditStatus: { value: "none", name: "No Audits", closed: true, "color.ansi": null },
    message: commit.imported ? commit.message : "",
    // The repository's view policy; anyone logged in may edit a commit (PhabricatorRepositoryCommit::getPolicy).
    policy: { view: viewPolicy, edit: "users" },
  };
}

export function commitSearch(repositories: RepositoryStore, viewPolicy: () => string): SearchSpec<CommitRecord> {
  const strings = "strings" as const;
  return {
    queryClass: "DiffusionCommitQuery",
    constraints: {
      responsible: strings,
      authors: strings,
      auditors: strings,
      statuses: strings,
      repositories: strings,
      packages: strings,
      unreachable: "bool",
      permanent: "bool",
      ancestorsOf: strings,
      identifiers: strings,
      query: "string",
      subscribers: strings,
      projects: strings,
    },
    select: (constraints) => select(repositories, constraints),
    all: () => repositories.allCommits(),
    id: (c) => c.id,
    phid: (c) => c.phid,
    orderKey: (c) => [c.epoch, c.id],
    fields: (c) => commitFields(c, viewPolicy()),
  };
}
