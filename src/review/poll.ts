// The code-review check's polling of Phabricator: the creation times of the reviews that lack them,
// each review's own target the first time (to learn its build and step), then every target of those
// builds (a restart adds a generation) and the builds' statuses (an abort sets only the build's).
import type { ReviewBook } from "./reviews.ts";
import { describeReviews } from "./reviews.ts";
import type { BuildTarget, DiffFacts, ReviewLookup } from "../phabricator/review-lookup.ts";

export interface PollEvidence {
  created: ReadonlyMap<string, number>;
  targets: ReadonlyMap<string, BuildTarget>;
  buildTargets: readonly BuildTarget[];
  statuses: ReadonlyMap<string, string>;
}

export async function pollReviews(book: ReviewBook, reviews: ReviewLookup, signal?: AbortSignal): Promise<PollEvidence> {
  const inFlight = [...book.inFlight.values()];
  const undated = inFlight.filter((r) => r.diffCreated === undefined).map((r) => r.diffPHID);
  const unplaced = inFlight.filter((r) => r.targetPHID !== undefined && r.buildPHID === undefined).map((r) => r.targetPHID as string);
  const [facts, targets] = await Promise.all([
    undated.length > 0 ? reviews.diffs(undated, signal) : new Map<string, DiffFacts>(),
    unplaced.length > 0 ? reviews.targets(unplaced, signal) : new Map<string, BuildTarget>(),
  ]);
  const created = new Map([...facts].map(([phid, f]) => [phid, f.dateCreated]));
  const placed = [...describeReviews(book, { created, targets }).inFlight.values()].filter((r) => r.buildPHID !== undefined);
  const buildPHIDs = [...new Set(placed.map((r) => r.buildPHID as string))];
  const [buildTargets, statuses] = await Promise.all([
    buildPHIDs.length > 0 ? reviews.targetsOfBuilds(buildPHIDs, signal) : [],
    buildPHIDs.length > 0 ? reviews.buildStatuses(buildPHIDs, signal) : new Map<string, string>(),
  ]);
  return { created, targets, buildTargets, statuses };
}
