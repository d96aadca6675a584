// The Differential and Harbormaster objects of a review, and how their statuses move
// (phorgeit/phorge @07c1a513; the same in mozilla-conduit/phabricator @69242983):
// - a build fails when one of its targets fails or is aborted, and passes when every target of its
//   current generation has passed (harbormaster/engine/HarbormasterBuildEngine.php `updateBuild`,
//   harbormaster/storage/build/HarbormasterBuildTarget.php `isFailed`);
// - aborting a build sets only the build's status; its targets stay `target/waiting`
//   (harbormaster/xaction/build/HarbormasterBuildMessageAbortTransaction.php); a restart makes targets
//   of a new buildGeneration and keeps the old ones;
// - the buildable follows its builds: failed when one is complete and not passed, passed when all
//   passed, building otherwise (HarbormasterBuildEngine::updateBuildable);
// - a revision is a draft while its builds run; it is promoted to needs-review when they pass, and
//   demoted to changes-planned when one fails while it is a draft
//   (differential/editor/DifferentialTransactionEditor.php `didApplyTransactions`,
//   DifferentialRevision::loadImpactfulBuildsForBuildablePHIDs, `newBuildableStatusForBuilds`).
import type { Ids } from "./store.ts";

export interface FakeTarget {
  phid: string;
  buildPHID: string;
  stepPHID: string;
  status: string;
  epochCompleted: number | null;
  buildGeneration: number;
  dateCreated: number;
}

export interface TargetRecord extends FakeTarget {
  id: number;
  name: string;
}

export interface DiffRecord {
  id: number;
  phid: string;
  dateCreated: number;
  authorPHID: string;
  repositoryPHID: string | null;
  revisionId: number | undefined;
}

export type RevisionStatus = "draft" | "needs-review" | "changes-planned";

export interface RevisionRecord {
  id: number;
  phid: string;
  diffPHID: string;
  title: string;
  summary: string;
  testPlan: string;
  authorPHID: string;
  repositoryPHID: string | null;
  dateCreated: number;
  dateModified: number;
  status: RevisionStatus;
  /** `shouldBroadcast`: false while a draft, true once promoted (isDraft is its negation). */
  broadcast: boolean;
}

export interface BuildableRecord {
  id: number;
  phid: string;
  objectPHID: string;
  dateCreated: number;
  dateModified: number;
}

export interface BuildRecord {
  id: number;
  phid: string;
  buildablePHID: string;
  planPHID: string;
  name: string;
  status: string;
  dateCreated: number;
  dateModified: number;
}

export interface DiffSpec {
  phid: string;
  id: number;
  dateCreated: number;
  revisionId?: number;
  revisionPHID?: string;
  authorPHID?: string;
  repositoryPHID?: string | null;
  title?: string;
  summary?: string;
  testPlan?: string;
}

export interface BuildSpec {
  created?: number;
  /** Targets of the build; the first is the code-review bot's step, waiting for a message. */
  targets?: number;
  plan?: string;
  /** The build plan's name, which the build carries. */
  name?: string;
  phid?: string;
  buildablePHID?: string;
  targetPHIDs?: string[];
  stepPHID?: string;
  targetName?: string;
}

export const BOT_STEP = "PHID-HMCS-codereview0000000000";
const COMPLETE_BUILD = new Set(["passed", "failed", "aborted", "error", "deadlocked"]);

export class ReviewStore {
  readonly diffs = new Map<string, DiffRecord>();
  readonly revisions = new Map<number, RevisionRecord>();
  readonly buildables = new Map<string, BuildableRecord>();
  readonly builds = new Map<string, BuildRecord>();
  readonly targets = new Map<string, TargetRecord>();
  private readonly ids: Ids;
  private readonly defaultRepositoryPHID: () => string | null;

  constructor(ids: Ids, defaultRepositoryPHID: () => string | null) {
    this.ids = ids;
    this.defaultRepositoryPHID = defaultRepositoryPHID;
  }

  addDiff(spec: DiffSpec): void {
    const authorPHID = spec.authorPHID ?? "PHID-USER-aaaaaaaaaaaaaaaaaaaa";
    const repositoryPHID = spec.repositoryPHID === undefined ? this.defaultRepositoryPHID() : spec.repositoryPHID;
    this.diffs.set(spec.phid, {
      id: this.ids.id("diff", spec.id),
      phid: spec.phid,
      dateCreated: spec.dateCreated,
      authorPHID,
      repositoryPHID,
      revisionId: spec.revisionId,
    });
    if (spec.revisionId === undefined) return;
    const known = this.revisions.get(spec.revisionId);
    if (known) {
      known.diffPHID = spec.phid;
      return;
    }
    this.revisions.set(spec.revisionId, {
      id: this.ids.id("revision", spec.revisionId),
      phid: spec.revisionPHID ?? this.ids.phid("DREV"),
      diffPHID: spec.phid,
      title: spec.title ?? `Revision ${spec.revisionId}`,
      summary: spec.summary ?? "",
      testPlan: spec.testPlan ?? "",
      authorPHID,
      repositoryPHID,
      dateCreated: spec.dateCreated,
      dateModified: spec.dateCreated,
      status: "draft",
      broadcast: false,
    });
  }

  addBuild(diffPHID: string, spec: BuildSpec = {}): { buildPHID: string; targetPHIDs: string[] } {
    const at = spec.created ?? this.diffs.get(diffPHID)?.dateCreated ?? 1714564800;
    const buildable = this.buildableOf(diffPHID) ?? this.newBuildable(diffPHID, spec.buildablePHID, at);
    const build: BuildRecord = {
      id: this.ids.id("build"),
      phid: spec.phid ?? this.ids.phid("HMBD"),
      buildablePHID: buildable.phid,
      planPHID: spec.plan ?? "PHID-HMCP-codereview0000000000",
      name: spec.name ?? "Code Review",
      status: "building",
      dateCreated: at,
      dateModified: at,
    };
    this.builds.set(build.phid, build);
    const steps = Array.from({ length: spec.targets ?? 1 }, (_, i) => ({
      stepPHID: i === 0 ? (spec.stepPHID ?? BOT_STEP) : `PHID-HMCS-otherstep${String(i).padStart(11, "0")}`,
      name: spec.targetName ?? "Make HTTP Request",
      phid: spec.targetPHIDs?.[i],
    }));
    const targetPHIDs = this.makeTargets(build.phid, steps, 1, at);
    this.settle(at);
    return { buildPHID: build.phid, targetPHIDs };
  }

  private newBuildable(objectPHID: string, phid: string | undefined, at: number): BuildableRecord {
    const buildable = { id: this.ids.id("buildable"), phid: phid ?? this.ids.phid("HMBB"), objectPHID, dateCreated: at, dateModified: at };
    this.buildables.set(buildable.phid, buildable);
    return buildable;
  }

  private makeTargets(
    buildPHID: string,
    steps: Array<{ stepPHID: string; name: string; phid?: string | undefined }>,
    generation: number,
    at: number,
  ): string[] {
    return steps.map((step) => {
      const target: TargetRecord = {
        id: this.ids.id("target"),
        phid: step.phid ?? this.ids.phid("HMBT"),
        buildPHID,
        stepPHID: step.stepPHID,
        name: step.name,
        status: "target/waiting",
        epochCompleted: null,
        buildGeneration: generation,
        dateCreated: at,
      };
      this.targets.set(target.phid, target);
      return target.phid;
    });
  }

  buildableOf(objectPHID: string): BuildableRecord | undefined {
    return [...this.buildables.values()].find((b) => b.objectPHID === objectPHID);
  }

  buildsOf(buildablePHID: string): BuildRecord[] {
    return [...this.builds.values()].filter((b) => b.buildablePHID === buildablePHID);
  }

  targetsOf(buildPHID: string, generation?: number): TargetRecord[] {
    return [...this.targets.values()].filter((t) => t.buildPHID === buildPHID && (generation === undefined || t.buildGeneration === generation));
  }

  botTarget(diffPHID: string): string | undefined {
    const buildable = this.buildableOf(diffPHID);
    const newest = buildable && this.buildsOf(buildable.phid).sort((a, b) => b.id - a.id)[0];
    return (
      newest &&
      this.targetsOf(newest.phid)
        .filter((t) => t.stepPHID === BOT_STEP)
        .sort((a, b) => b.buildGeneration - a.buildGeneration)[0]?.phid
    );
  }

  setBuildStatus(buildPHID: string, status: string, at?: number): void {
    const build = this.builds.get(buildPHID);
    if (!build) throw new Error(`no build ${buildPHID}`);
    build.status = status;
    this.touch(build, at);
  }

  finishTarget(phid: string, outcome: "passed" | "failed" | "aborted", epochCompleted: number): void {
    const target = this.targets.get(phid);
    if (!target) throw new Error(`no target ${phid}`);
    target.status = `target/${outcome}`;
    target.epochCompleted = epochCompleted;
    const build = this.builds.get(target.buildPHID);
    if (!build) return;
    const current = this.targetsOf(build.phid, target.buildGeneration);
    if (outcome !== "passed") this.setBuildStatus(build.phid, "failed", epochCompleted);
    else if (current.every((t) => t.status === "target/passed")) this.setBuildStatus(build.phid, "passed", epochCompleted);
  }

  restartBuild(buildPHID: string, at: number): string[] {
    const all = this.targetsOf(buildPHID);
    const generation = Math.max(...all.map((t) => t.buildGeneration));
    const previous = all.filter((t) => t.buildGeneration === generation).sort((a, b) => a.id - b.id);
    const steps = previous.map((t) => ({ stepPHID: t.stepPHID, name: t.name }));
    const phids = this.makeTargets(buildPHID, steps, generation + 1, at);
    this.setBuildStatus(buildPHID, "building", at);
    return phids;
  }

  private touch(build: BuildRecord, at: number | undefined): void {
    const when = at ?? build.dateModified;
    build.dateModified = Math.max(build.dateModified, when);
    const buildable = this.buildables.get(build.buildablePHID);
    if (buildable) buildable.dateModified = Math.max(buildable.dateModified, when);
    this.settle(when);
  }

  /** HarbormasterBuildEngine::updateBuildable, recomputed from the builds as they are now. */
  buildableStatus(buildable: BuildableRecord): "building" | "passed" | "failed" {
    const builds = this.buildsOf(buildable.phid);
    if (builds.some((b) => COMPLETE_BUILD.has(b.status) && b.status !== "passed")) return "failed";
    return builds.every((b) => b.status === "passed") ? "passed" : "building";
  }

  /** Promotes or demotes draft revisions whose builds have finished (see the header). */
  settle(at?: number): void {
    for (const revision of this.revisions.values()) {
      const demotable = revision.status === "draft";
      const promotable = demotable || (revision.status === "changes-planned" && !revision.broadcast);
      if (!promotable) continue;
      const outcome = this.impactfulStatus(revision);
      const dateModified = Math.max(revision.dateModified, at ?? 0);
      if (outcome === "passed") Object.assign(revision, { status: "needs-review", broadcast: true, dateModified });
      else if (outcome === "failed" && demotable) Object.assign(revision, { status: "changes-planned", dateModified });
    }
  }

  /** DifferentialRevision::newBuildableStatusForBuilds over the builds that are not passed. */
  private impactfulStatus(revision: RevisionRecord): "passed" | "failed" | null {
    const buildable = this.buildableOf(revision.diffPHID);
    const builds = buildable ? this.buildsOf(buildable.phid).filter((b) => b.status !== "passed") : [];
    if (builds.length === 0) return "passed";
    return builds.some((b) => COMPLETE_BUILD.has(b.status)) ? "failed" : null;
  }

  revisionOfDiff(diffPHID: string): RevisionRecord | undefined {
    const id = this.diffs.get(diffPHID)?.revisionId;
    return id === undefined ? undefined : this.revisions.get(id);
  }
}
