// What the code-review pipeline measures is read from Conduit: a diff's creation time
// (differential.diff.search `fields.dateCreated`), the bot's own Harbormaster build target, the other
// targets of its build (a restart adds a generation) and the build's status (an abort sets only the
// build's). Fields as phacility/phabricator's harbormaster/storage/HarbormasterBuildTarget.php and
// build/HarbormasterBuild.php give them to Conduit. Every lookup takes many PHIDs and asks about 100
// of them a call, so a burst of Try pushes costs a handful of calls.
import { z } from "zod";
import { CONDUIT_PAGE, type ConduitClient } from "./phabricator.ts";
import { UpstreamError, mapLimited } from "../upstream/upstream.ts";
import { isUnixTime } from "../core/push-time.ts";

const PARALLEL_CALLS = 4;

const row = <T extends z.ZodRawShape>(fields: T) => z.object({ id: z.number(), phid: z.string(), fields: z.object(fields) });
const diffRow = row({ dateCreated: z.number(), revisionPHID: z.string().nullable().optional() });
const buildRow = row({ buildablePHID: z.string(), buildStatus: z.object({ value: z.string() }) });
const targetRow = row({
  buildPHID: z.string(),
  buildStepPHID: z.string(),
  status: z.object({ value: z.string() }),
  epochCompleted: z.number().nullable(),
  buildGeneration: z.number(),
});
const revisionRow = row({ diffPHID: z.string() });

/** A `harbormaster.target.search` row, as the pipeline reads it. */
export interface BuildTarget {
  phid: string;
  buildPHID: string;
  stepPHID: string;
  status: string;
  epochCompleted: number | null;
  buildGeneration: number;
}

export interface DiffFacts {
  phid: string;
  id: number;
  /** Unix seconds. */
  dateCreated: number;
  revisionPHID: string | undefined;
}

export interface ReviewLookup {
  diffs(phids: readonly string[], signal?: AbortSignal): Promise<Map<string, DiffFacts>>;
  /** Build targets by PHID; one Phabricator does not know (or this token cannot see) is absent. */
  targets(phids: readonly string[], signal?: AbortSignal): Promise<Map<string, BuildTarget>>;
  /** Every target of each build, all generations. */
  targetsOfBuilds(buildPHIDs: readonly string[], signal?: AbortSignal): Promise<BuildTarget[]>;
  /** Each build's status value (`building`, `aborted`, …). */
  buildStatuses(buildPHIDs: readonly string[], signal?: AbortSignal): Promise<Map<string, string>>;
  /** The active diff of each revision (D-number). */
  revisions(ids: readonly number[], signal?: AbortSignal): Promise<Map<number, { phid: string; diffPHID: string }>>;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CONDUIT_PAGE) out.push(items.slice(i, i + CONDUIT_PAGE));
  return out;
}

function toTarget(r: z.infer<typeof targetRow>): BuildTarget {
  const completed = r.fields.epochCompleted;
  return {
    phid: r.phid,
    buildPHID: r.fields.buildPHID,
    stepPHID: r.fields.buildStepPHID,
    status: r.fields.status.value,
    // An epoch no build can have is no completion time: the review stays in flight (and expires)
    // rather than be measured from it (push-time.ts).
    epochCompleted: completed !== null && isUnixTime(completed) ? completed : null,
    buildGeneration: r.fields.buildGeneration,
  };
}

export function createReviewLookup(conduit: ConduitClient): ReviewLookup {
  /** `constraintKey` in batches of 100, each paged to the end, and each row checked against `shape`. */
  async function searchAll<T>(
    method: string,
    shape: z.ZodType<T>,
    constraintKey: string,
    values: readonly (string | number)[],
    signal: AbortSignal | undefined,
    extra: Record<string, unknown> = {},
  ): Promise<T[]> {
    const unique = [...new Set(values)];
    const rows: T[] = [];
    await mapLimited(chunks(unique), PARALLEL_CALLS, async (batch) => {
      const found = await conduit.search(method, { constraints: { ...extra, [constraintKey]: batch }, limit: CONDUIT_PAGE }, signal);
      for (const item of found) {
        const parsed = shape.safeParse(item);
        if (!parsed.success) throw new UpstreamError("phabricator", `${method}: unexpected row shape at ${parsed.error.issues[0]?.path.join(".")}`);
        rows.push(parsed.data);
      }
    });
    return rows;
  }

  const lookup: ReviewLookup = {
    async diffs(phids, signal) {
      const rows = await searchAll("differential.diff.search", diffRow, "phids", phids, signal);
      // A creation time no diff can have leaves the diff unmeasured, as one Phabricator does not show.
      return new Map(
        rows
          .filter((r) => isUnixTime(r.fields.dateCreated))
          .map((r) => [r.phid, { phid: r.phid, id: r.id, dateCreated: r.fields.dateCreated, revisionPHID: r.fields.revisionPHID ?? undefined }]),
      );
    },
    async targets(phids, signal) {
      const rows = await searchAll("harbormaster.target.search", targetRow, "phids", phids, signal);
      return new Map(rows.map((r) => [r.phid, toTarget(r)]));
    },
    async targetsOfBuilds(buildPHIDs, signal) {
      return (await searchAll("harbormaster.target.search", targetRow, "buildPHIDs", buildPHIDs, signal)).map(toTarget);
    },
    async buildStatuses(buildPHIDs, signal) {
      const rows = await searchAll("harbormaster.build.search", buildRow, "phids", buildPHIDs, signal);
      return new Map(rows.map((r) => [r.phid, r.fields.buildStatus.value]));
    },
    async revisions(ids, signal) {
      const rows = await searchAll("differential.revision.search", revisionRow, "ids", ids, signal);
      return new Map(rows.map((r) => [r.id, { phid: r.phid, diffPHID: r.fields.diffPHID }]));
    },
  };
  return lookup;
}
