// What the code-review pipeline measures is read from Conduit (wire-formats §4.5–4.7): a diff's
// creation time, and its Harbormaster buildable → builds → build targets. Every lookup takes many
// PHIDs and asks about 100 of them a call, so a burst of Try pushes costs a handful of calls.
import { z } from "zod";
import type { BuildTarget } from "../core/reviews.ts";
import { CONDUIT_PAGE, type ConduitClient } from "./phabricator.ts";
import { UpstreamError, mapLimited } from "./upstream.ts";

const PARALLEL_CALLS = 4;

const row = <T extends z.ZodRawShape>(fields: T) => z.object({ id: z.number(), phid: z.string(), fields: z.object(fields) });
const diffRow = row({ dateCreated: z.number(), revisionPHID: z.string().nullable().optional() });
const buildableRow = row({ objectPHID: z.string() });
const buildRow = row({ buildablePHID: z.string() });
const targetRow = row({
  buildPHID: z.string(),
  status: z.object({ value: z.string() }),
  epochCompleted: z.number().nullable(),
  buildGeneration: z.number(),
  dateCreated: z.number().optional(),
});
const revisionRow = row({ diffPHID: z.string() });

export interface DiffFacts {
  phid: string;
  id: number;
  /** Unix seconds. */
  dateCreated: number;
  revisionPHID: string | undefined;
}

export interface ReviewLookup {
  diffs(phids: readonly string[], signal?: AbortSignal): Promise<Map<string, DiffFacts>>;
  /** The build PHIDs of each diff's buildable; a diff with no buildable yet is absent. */
  buildsOfDiffs(diffPHIDs: readonly string[], signal?: AbortSignal): Promise<Map<string, string[]>>;
  targetsOfBuilds(buildPHIDs: readonly string[], signal?: AbortSignal): Promise<Map<string, BuildTarget[]>>;
  /** Build PHIDs of targets waiting for a message (the code-review bot's) created since `sinceSec`. */
  waitingBuilds(sinceSec: number, signal?: AbortSignal): Promise<string[]>;
  /** The diff each build was run for (build → buildable → object). */
  diffsOfBuilds(buildPHIDs: readonly string[], signal?: AbortSignal): Promise<Map<string, string>>;
  /** The active diff of each revision (D-number). */
  revisions(ids: readonly number[], signal?: AbortSignal): Promise<Map<number, { phid: string; diffPHID: string }>>;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CONDUIT_PAGE) out.push(items.slice(i, i + CONDUIT_PAGE));
  return out;
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
      return new Map(rows.map((r) => [r.phid, { phid: r.phid, id: r.id, dateCreated: r.fields.dateCreated, revisionPHID: r.fields.revisionPHID ?? undefined }]));
    },
    async buildsOfDiffs(diffPHIDs, signal) {
      if (diffPHIDs.length === 0) return new Map();
      const buildables = await searchAll("harbormaster.buildable.search", buildableRow, "objectPHIDs", diffPHIDs, signal);
      const diffOf = new Map(buildables.map((b) => [b.phid, b.fields.objectPHID]));
      const builds = await searchAll("harbormaster.build.search", buildRow, "buildables", [...diffOf.keys()], signal);
      const result = new Map<string, string[]>();
      for (const build of builds) {
        const diff = diffOf.get(build.fields.buildablePHID);
        if (diff === undefined) continue;
        result.set(diff, [...(result.get(diff) ?? []), build.phid]);
      }
      return result;
    },
    async targetsOfBuilds(buildPHIDs, signal) {
      const rows = await searchAll("harbormaster.target.search", targetRow, "buildPHIDs", buildPHIDs, signal);
      const result = new Map<string, BuildTarget[]>();
      for (const r of rows) {
        const target: BuildTarget = { buildPHID: r.fields.buildPHID, status: r.fields.status.value, epochCompleted: r.fields.epochCompleted, buildGeneration: r.fields.buildGeneration };
        result.set(target.buildPHID, [...(result.get(target.buildPHID) ?? []), target]);
      }
      return result;
    },
    async waitingBuilds(sinceSec, signal) {
      const rows = await conduit.search(
        "harbormaster.target.search",
        { constraints: { statuses: ["target/waiting"], createdStart: Math.floor(sinceSec) }, limit: CONDUIT_PAGE },
        signal,
      );
      const builds = new Set<string>();
      for (const item of rows) {
        const parsed = targetRow.safeParse(item);
        if (!parsed.success) throw new UpstreamError("phabricator", "harbormaster.target.search: unexpected row shape");
        builds.add(parsed.data.fields.buildPHID);
      }
      return [...builds];
    },
    async diffsOfBuilds(buildPHIDs, signal) {
      if (buildPHIDs.length === 0) return new Map();
      const builds = await searchAll("harbormaster.build.search", buildRow, "phids", buildPHIDs, signal);
      const buildables = await searchAll("harbormaster.buildable.search", buildableRow, "phids", builds.map((b) => b.fields.buildablePHID), signal);
      const objectOf = new Map(buildables.map((b) => [b.phid, b.fields.objectPHID]));
      const result = new Map<string, string>();
      for (const build of builds) {
        const object = objectOf.get(build.fields.buildablePHID);
        // Buildables of commits (PHID-CMIT) are not reviews.
        if (object?.startsWith("PHID-DIFF-")) result.set(build.phid, object);
      }
      return result;
    },
    async revisions(ids, signal) {
      const rows = await searchAll("differential.revision.search", revisionRow, "ids", ids, signal);
      return new Map(rows.map((r) => [r.id, { phid: r.phid, diffPHID: r.fields.diffPHID }]));
    },
  };
  return lookup;
}
