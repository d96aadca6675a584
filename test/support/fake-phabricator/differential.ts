// differential.diff.search and differential.revision.search
// (src/applications/differential/query/DifferentialDiffSearchEngine.php, DifferentialRevisionSearchEngine.php;
// rows from differential/storage/DifferentialDiff.php and DifferentialRevision.php `getFieldValuesForConduit`).
// Of the revision constraints, `authorPHIDs`, `repositoryPHIDs` and `statuses` (status values) are
// applied, the others accepted and not. Revisions come most recently modified first
// (DifferentialRevisionQuery::getBuiltinOrders `updated`).
import type { DiffRecord, ReviewStore, RevisionRecord } from "./review-store.ts";
import type { SearchSpec } from "./search-engine.ts";

const STATUS = {
  draft: { value: "draft", name: "Draft", closed: false, "color.ansi": null },
  "needs-review": { value: "needs-review", name: "Needs Review", closed: false, "color.ansi": "magenta" },
  "changes-planned": { value: "changes-planned", name: "Changes Planned", closed: false, "color.ansi": "red" },
} as const;

const inList = (value: unknown, wanted: unknown) => !Array.isArray(wanted) || wanted.length === 0 || wanted.includes(value);

export function diffSearch(reviews: ReviewStore, viewPolicy: () => string): SearchSpec<DiffRecord> {
  return {
    queryClass: "DifferentialDiffQuery",
    constraints: { revisionPHIDs: "strings" },
    select: (c) => [...reviews.diffs.values()].filter((d) => inList(reviews.revisionOfDiff(d.phid)?.phid, c.revisionPHIDs)),
    all: () => [...reviews.diffs.values()],
    id: (d) => d.id,
    phid: (d) => d.phid,
    fields: (d) => ({
      revisionPHID: reviews.revisionOfDiff(d.phid)?.phid ?? null,
      authorPHID: d.authorPHID,
      repositoryPHID: d.repositoryPHID,
      refs: [],
      dateCreated: d.dateCreated,
      dateModified: d.dateCreated,
      // A diff of a revision has the revision's view policy (DifferentialDiff::getPolicy).
      policy: { view: viewPolicy() },
    }),
  };
}

/**
 * The row is Mozilla's: its fork adds `stackGraph` (the revision's "depends on" edges over its whole
 * stack, each revision PHID mapped to the PHIDs it depends on; a revision alone maps to an empty list)
 * and `diffID` (mozilla-conduit/phabricator @69242983 src/applications/differential/storage/DifferentialRevision.php
 * lines 1130-1136 and 1143). `diffID` is `loadActiveDiff()->getID()` uncast: LiskDAO::loadFromArray
 * keeps the string mysqli gives for an integer column (which is why buildConduitResponse writes
 * `(int)$object->getID()` for `id`), so it is sent as a JSON string. No Mozilla recording backs its type.
 */
function revisionFields(reviews: ReviewStore, revision: RevisionRecord, origin: string, viewPolicy: string): Record<string, unknown> {
  return {
    stackGraph: { [revision.phid]: [] },
    title: revision.title,
    uri: `${origin}/D${revision.id}`,
    authorPHID: revision.authorPHID,
    status: STATUS[revision.status],
    repositoryPHID: revision.repositoryPHID,
    diffPHID: revision.diffPHID,
    diffID: String(reviews.diffs.get(revision.diffPHID)?.id),
    summary: revision.summary,
    testPlan: revision.testPlan,
    isDraft: !revision.broadcast,
    holdAsDraft: false,
    dateCreated: revision.dateCreated,
    dateModified: revision.dateModified,
    policy: { view: viewPolicy, edit: "users" },
  };
}

export function revisionSearch(reviews: ReviewStore, origin: () => string, viewPolicy: () => string): SearchSpec<RevisionRecord> {
  const strings = "strings" as const;
  return {
    queryClass: "DifferentialRevisionQuery",
    constraints: {
      responsiblePHIDs: strings,
      authorPHIDs: strings,
      reviewerPHIDs: strings,
      repositoryPHIDs: strings,
      statuses: strings,
      createdStart: "any",
      createdEnd: "any",
      modifiedStart: "any",
      modifiedEnd: "any",
      affectedPaths: strings,
      query: "string",
      subscribers: strings,
      projects: strings,
    },
    select: (c) => {
      reviews.settle();
      return [...reviews.revisions.values()].filter(
        (r) => inList(r.authorPHID, c.authorPHIDs) && inList(r.repositoryPHID, c.repositoryPHIDs) && inList(r.status, c.statuses),
      );
    },
    all: () => [...reviews.revisions.values()],
    id: (r) => r.id,
    phid: (r) => r.phid,
    orderKey: (r) => [r.dateModified, r.id],
    fields: (r) => revisionFields(reviews, r, origin(), viewPolicy()),
  };
}
