// The requests and answers recorded from real Phorge (../shared/real-data/served/phorge/, described in
// its README.md), and the world they were recorded in, read back from the recordings themselves: the
// repository row, the 125 commits with their ids, PHIDs, dates and messages, and the objects of the
// review at each step (waiting, passed, restarted, aborted). loadServed puts that world into a fake
// Phabricator so that the recorded request can be asked of it again.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import type { FakeCommit, FakePhabricator } from "./fake-phabricator.ts";

export const SERVED_PHORGE = new URL("../../../shared/real-data/served/phorge/", import.meta.url);
export const servedPresent = existsSync(SERVED_PHORGE);

export interface ServedCase {
  file: string;
  case: string;
  request: { http: string; contentType?: string; params?: Record<string, unknown>; output?: string; cookie?: string | null };
  response: { status: number; contentType: string; body?: unknown; location?: string | null; length?: number; title?: string | null };
}

interface Row {
  id: number;
  phid: string;
  fields: Record<string, unknown>;
}

export function servedCases(): ServedCase[] {
  return readdirSync(SERVED_PHORGE)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, SERVED_PHORGE), "utf8")) as Omit<ServedCase, "file">) }));
}

function rowsOf(file: string): Row[] {
  const recorded = JSON.parse(readFileSync(new URL(file, SERVED_PHORGE), "utf8")) as { response: { body: { result: { data: Row[] } } } };
  return recorded.response.body.result.data;
}

const firstRow = (file: string) => rowsOf(file)[0] as Row;

/** The repository as diffusion.repository.search recorded it. */
export function servedRepository(): { callsign: string; name: string; shortName: string; vcs: "hg"; phid: string; viewPolicy: "users" | "public" } {
  const row = firstRow("repository-search-callsign.json");
  const fields = row.fields as { callsign: string; name: string; shortName: string; vcs: "hg"; policy: { view: "users" | "public" } };
  return { callsign: fields.callsign, name: fields.name, shortName: fields.shortName, vcs: fields.vcs, phid: row.phid, viewPolicy: fields.policy.view };
}

/** Every commit of the repository, from the two pages of diffusion.commit.search by repository. */
export function servedCommits(): FakeCommit[] {
  const rows = [...rowsOf("commit-search-repository-page-1.json"), ...rowsOf("commit-search-repository-page-2.json")];
  return rows
    .sort((a, b) => a.id - b.id)
    .map((row) => {
      const fields = row.fields as {
        identifier: string;
        message: string;
        committer: { epoch: number };
        author: { name: string; email: string; identityPHID: string };
      };
      return {
        node: fields.identifier,
        id: row.id,
        phid: row.phid,
        epoch: fields.committer.epoch,
        message: fields.message,
        author: { name: fields.author.name, email: fields.author.email, identityPHID: fields.author.identityPHID },
      };
    });
}

export type ReviewStep = "waiting" | "passed" | "restarted" | "aborted";

/** The review's diff, revision, buildable, build and target as first recorded, brought to `step`. */
export function loadReview(fake: FakePhabricator, step: ReviewStep): void {
  const diff = firstRow("review-waiting-diff-search-phids.json");
  const revision = firstRow("review-waiting-revision-search-ids.json");
  const build = firstRow("review-waiting-build-search-phids.json");
  const target = firstRow("review-waiting-target-search-phids.json");
  const text = (row: Row, key: string) => row.fields[key] as string;
  fake.addDiff({
    phid: diff.phid,
    id: diff.id,
    dateCreated: diff.fields.dateCreated as number,
    revisionId: revision.id,
    revisionPHID: revision.phid,
    authorPHID: text(diff, "authorPHID"),
    repositoryPHID: text(diff, "repositoryPHID"),
    title: text(revision, "title"),
    summary: text(revision, "summary"),
    testPlan: text(revision, "testPlan"),
  });
  fake.addBuild(diff.phid, {
    created: build.fields.dateCreated as number,
    plan: text(build, "buildPlanPHID"),
    name: text(build, "name"),
    phid: build.phid,
    buildablePHID: firstRow("review-waiting-buildable-search-objectPHIDs.json").phid,
    targetPHIDs: [target.phid],
    stepPHID: text(target, "buildStepPHID"),
    targetName: text(target, "name"),
  });
  if (step === "waiting") return;
  fake.finishTarget(target.phid, "passed", firstRow("review-passed-target-search-phids.json").fields.epochCompleted as number);
  if (step === "passed") return;
  const restartedAt = Math.max(...rowsOf("review-restarted-target-search-buildPHIDs.json").map((t) => t.fields.dateCreated as number));
  fake.restartBuild(build.phid, restartedAt);
  if (step === "restarted") return;
  fake.setBuildStatus(build.phid, "aborted", firstRow("review-aborted-build-search-phids.json").fields.dateModified as number);
}

/**
 * The world of a recorded case, named by the case: the repository (without its short name for a
 * `no-shortname` case), its commits, the review at the step a `review-<step>-` case names, and an
 * instance anonymous users cannot see for an `anonymous-private` case.
 */
export function loadServed(fake: FakePhabricator, caseName: string): void {
  const repository = servedRepository();
  fake.viewPolicy = repository.viewPolicy;
  fake.addRepository(repository.callsign, {
    vcs: repository.vcs,
    name: repository.name,
    shortName: caseName.includes("no-shortname") ? null : repository.shortName,
    phid: repository.phid,
  });
  fake.mirror(repository.callsign, servedCommits());
  const step = /^review-(waiting|passed|restarted|aborted)-/.exec(caseName)?.[1] as ReviewStep | undefined;
  if (step) loadReview(fake, step);
  if (caseName.includes("anonymous-private")) fake.anonymous = "private";
}
