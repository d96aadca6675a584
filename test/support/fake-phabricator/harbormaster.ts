// harbormaster.buildable.search, harbormaster.build.search and harbormaster.target.search
// (src/applications/harbormaster/query/*SearchEngine.php; rows from harbormaster/storage/HarbormasterBuildable.php,
// build/HarbormasterBuild.php, build/HarbormasterBuildTarget.php `getFieldValuesForConduit`; status
// names and ANSI colours from constants/HarbormasterBuildStatus.php and HarbormasterBuildTarget::getBuildTargetStatusName).
// Each object has its revision's view policy (a buildable's is its diff's, a build's its buildable's,
// a target's its build's). The constraints applied: objectPHIDs, containerPHIDs, statuses (buildables);
// buildables, plans, statuses (builds); buildPHIDs, statuses, createdStart (targets); the others are
// accepted and not applied.
import type { BuildRecord, BuildableRecord, ReviewStore, TargetRecord } from "./review-store.ts";
import type { SearchSpec } from "./search-engine.ts";

const BUILD_STATUS: Record<string, { name: string; "color.ansi": string }> = {
  inactive: { name: "Inactive", "color.ansi": "yellow" },
  pending: { name: "Pending", "color.ansi": "yellow" },
  building: { name: "Building", "color.ansi": "yellow" },
  passed: { name: "Passed", "color.ansi": "green" },
  failed: { name: "Failed", "color.ansi": "red" },
  aborted: { name: "Aborted", "color.ansi": "red" },
  error: { name: "Unexpected Error", "color.ansi": "red" },
  paused: { name: "Paused", "color.ansi": "yellow" },
  deadlocked: { name: "Deadlocked", "color.ansi": "red" },
};

const TARGET_STATUS: Record<string, string> = {
  "target/pending": "Pending",
  "target/building": "Building",
  "target/waiting": "Waiting for Message",
  "target/passed": "Passed",
  "target/failed": "Failed",
  "target/aborted": "Aborted",
};

const inList = (value: unknown, wanted: unknown) => !Array.isArray(wanted) || wanted.length === 0 || wanted.includes(value);
const stamps = (created: number, modified: number) => ({ dateCreated: created, dateModified: modified });

export function buildableSearch(reviews: ReviewStore, origin: () => string, viewPolicy: () => string): SearchSpec<BuildableRecord> {
  return {
    queryClass: "HarbormasterBuildableQuery",
    constraints: { objectPHIDs: "strings", containerPHIDs: "strings", statuses: "strings", manual: "bool" },
    select: (c) =>
      [...reviews.buildables.values()].filter(
        (b) =>
          inList(b.objectPHID, c.objectPHIDs) &&
          inList(reviews.revisionOfDiff(b.objectPHID)?.phid, c.containerPHIDs) &&
          inList(reviews.buildableStatus(b), c.statuses),
      ),
    all: () => [...reviews.buildables.values()],
    id: (b) => b.id,
    phid: (b) => b.phid,
    fields: (b) => ({
      objectPHID: b.objectPHID,
      // The diff's revision (DifferentialDiff::getHarbormasterContainerPHID).
      containerPHID: reviews.revisionOfDiff(b.objectPHID)?.phid ?? null,
      buildableStatus: { value: reviews.buildableStatus(b) },
      isManual: false,
      uri: `${origin()}/B${b.id}`,
      ...stamps(b.dateCreated, b.dateModified),
      policy: { view: viewPolicy(), edit: "users" },
    }),
  };
}

export function buildSearch(reviews: ReviewStore, viewPolicy: () => string): SearchSpec<BuildRecord> {
  return {
    queryClass: "HarbormasterBuildQuery",
    constraints: { plans: "strings", buildables: "strings", statuses: "strings", initiators: "strings" },
    select: (c) =>
      [...reviews.builds.values()].filter((b) => inList(b.buildablePHID, c.buildables) && inList(b.planPHID, c.plans) && inList(b.status, c.statuses)),
    all: () => [...reviews.builds.values()],
    id: (b) => b.id,
    phid: (b) => b.phid,
    fields: (b) => ({
      buildablePHID: b.buildablePHID,
      buildPlanPHID: b.planPHID,
      buildStatus: { value: b.status, name: BUILD_STATUS[b.status]?.name ?? "Unknown", "color.ansi": BUILD_STATUS[b.status]?.["color.ansi"] ?? null },
      initiatorPHID: null,
      name: b.name,
      ...stamps(b.dateCreated, b.dateModified),
      policy: { view: viewPolicy(), edit: "users" },
    }),
  };
}

export function targetSearch(reviews: ReviewStore, viewPolicy: () => string): SearchSpec<TargetRecord> {
  return {
    queryClass: "HarbormasterBuildTargetQuery",
    constraints: {
      buildPHIDs: "strings",
      createdStart: "any",
      createdEnd: "any",
      startedStart: "any",
      startedEnd: "any",
      completedStart: "any",
      completedEnd: "any",
      statuses: "strings",
    },
    select: (c) =>
      [...reviews.targets.values()].filter(
        (t) => inList(t.buildPHID, c.buildPHIDs) && inList(t.status, c.statuses) && (typeof c.createdStart !== "number" || t.dateCreated >= c.createdStart),
      ),
    all: () => [...reviews.targets.values()],
    id: (t) => t.id,
    phid: (t) => t.phid,
    fields: (t) => ({
      name: t.name,
      buildPHID: t.buildPHID,
      buildStepPHID: t.stepPHID,
      status: { value: t.status, name: TARGET_STATUS[t.status] ?? "Unknown" },
      epochStarted: t.dateCreated,
      epochCompleted: t.epochCompleted,
      buildGeneration: t.buildGeneration,
      ...stamps(t.dateCreated, t.epochCompleted ?? t.dateCreated),
      policy: { view: viewPolicy() },
    }),
  };
}
