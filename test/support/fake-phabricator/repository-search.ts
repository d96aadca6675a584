// diffusion.repository.search (src/applications/repository/query/PhabricatorRepositorySearchEngine.php,
// PhabricatorRepositoryQuery.php): `callsigns` and `shortNames` match case-insensitively, as MySQL's
// collation compares them (served/phorge/repository-search-lowercase-callsign.json); `types` filters
// by VCS; the other constraints are accepted and not applied. Rows come in the first builtin order,
// `committed`: the repository with the newest commit first, then by id.
//
// The row is Mozilla's (mozilla-conduit/phabricator @69242983 src/applications/repository/storage/PhabricatorRepository.php
// `getFieldValuesForConduit`, lines 2825-2842): Phorge adds `isHosted`, `encoding`, `staging` and
// `browseUri` (served/phorge/repository-search-callsign.json), Mozilla's fork has none of them.
// `spacePHID` comes from PhabricatorSpacesSearchEngineExtension, the dates and `policy` from the
// generic engine (PhabricatorApplicationSearchEngine::getObjectWireFieldsForConduit).
import type { RepositoryRecord, RepositoryStore } from "./store.ts";
import type { SearchSpec } from "./search-engine.ts";

function matchesList(value: string | null, wanted: unknown): boolean {
  if (!Array.isArray(wanted) || wanted.length === 0) return true;
  return value !== null && wanted.some((w) => String(w).toLowerCase() === value.toLowerCase());
}

export function repositoryFields(repository: RepositoryRecord, viewPolicy: string): Record<string, unknown> {
  return {
    name: repository.name,
    vcs: repository.vcs,
    callsign: repository.callsign,
    shortName: repository.shortName,
    status: "active",
    isImporting: false,
    almanacServicePHID: null,
    refRules: { fetchRules: [], trackRules: [], permanentRefRules: [] },
    // PhabricatorRepository::getDefaultBranch: diffusion.global-default-branch-mercurial / -git.
    defaultBranch: repository.vcs === "hg" ? "default" : "master",
    description: { raw: "" },
    spacePHID: null,
    dateCreated: repository.dateCreated,
    dateModified: repository.dateCreated,
    policy: { view: viewPolicy, edit: "admin", "diffusion.push": "users" },
  };
}

export function repositorySearch(repositories: RepositoryStore, viewPolicy: () => string): SearchSpec<RepositoryRecord> {
  const newestCommit = (r: RepositoryRecord) => repositories.allCommits(r).reduce((newest, c) => Math.max(newest, c.epoch), 0);
  return {
    queryClass: "PhabricatorRepositoryQuery",
    constraints: {
      callsigns: "strings",
      shortNames: "strings",
      status: "string",
      hosted: "string",
      types: "strings",
      uris: "strings",
      uuids: "strings",
      almanacServicePHIDs: "strings",
      query: "string",
      projects: "strings",
      spaces: "strings",
    },
    select: (c) =>
      [...repositories.repositories.values()].filter(
        (r) => matchesList(r.callsign, c.callsigns) && matchesList(r.shortName, c.shortNames) && matchesList(r.vcs, c.types),
      ),
    all: () => [...repositories.repositories.values()],
    id: (r) => r.id,
    phid: (r) => r.phid,
    orderKey: (r) => [newestCommit(r), r.id],
    fields: (r) => repositoryFields(r, viewPolicy()),
  };
}
