// One check of the code-review pipeline: read the Try pushes waiting on our Try queue, find the
// code-review bot's among them, and move each diff along: created → pushed to Try → result on its
// Harbormaster build target. It has its own queue and runs after the replication check, so Try
// traffic can neither delay nor reorder that check. The decisions are core/review-commit.ts and
// core/reviews.ts; this module moves data between them, Pulse, the pushlog and Conduit.
import type { DiffFacts, ReviewLookup } from "./review-lookup.ts";
import type { BuildTarget } from "./reviews.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { givenUpKey, readQueue, settleQueueRead, type QueueCheckDeps } from "../run/queue-read.ts";
import { pushIdRanges } from "../replication/push-walk.ts";
import { idsAfter, maxOf, missingPushIds } from "../hgpush/pushlog-gaps.ts";
import { TRY_TASK_CONFIG, findReviewCommit, targetOfTryTaskConfig } from "./review-commit.ts";
import { mapLimited } from "../upstream/upstream.ts";
import { isUnixTime } from "../core/push-time.ts";
import { absenceAfterCheck, absentPushFate, type GiveUpReason } from "../hgpush/absent-pushes.ts";
import {
  EMPTY_BOOK,
  REVIEW_LIMITS,
  describeReviews,
  expireReviews,
  finishReviews,
  recoverReviews,
  reviewsInFlightAt,
  reviewState,
  takeLatencies,
  trackTryPushes,
  type Review,
  type ReviewBook,
  type ReviewView,
  type TargetState,
} from "./reviews.ts";
import type { ReviewMetrics } from "../app/metrics.ts";

/** Try pushes per full=1 request: people's pushes can carry hundreds of changesets each. */
export const TRY_SLICE = 50;
/** Push ids missing between two messages that are looked up in the pushlog, at most, per check. */
const MAX_GAP = 1000;
/** try_task_config.json files read at once. */
const PARALLEL_FILES = 4;
/** Try pushes read back at start-up, at most (TRY_SLICE a request): well over a day of Try. */
const MAX_RECOVERY_PUSHES = 10_000;

type FoundPush = { diffPHID: string; revisionId?: number; targetPHID?: string; push: { pushId: number; pushTime: number; node: string } };

export interface PipelineDeps extends QueueCheckDeps {
  tryRepository: string;
  pushlog: PushlogClient;
  reviews: ReviewLookup;
  metrics: ReviewMetrics;
  /** Where the reviews in flight are published after each check, for the scrape-time collectors. */
  publish: (view: ReviewView) => void;
}

export interface PipelineReport {
  ok: boolean;
  errors: string[];
  messages: number;
  tryPushes: { codeReview: number; other: number };
  recovered: number;
  finished: Array<{ diffPHID: string; outcome: "passed" | "failed"; seconds: number }>;
  inFlight: number | undefined;
  oldestSeconds: number | undefined;
  durationMs: number;
}

export function createPipeline(deps: PipelineDeps) {
  const { metrics, log } = deps;
  let book: ReviewBook = EMPTY_BOOK;
  /** False until the reviews in flight before this process started have been read back from Phabricator. */
  let recovered = false;
  /** When (ms) build targets were last polled successfully: the in-flight gauges vouch for no more. */
  let polledAt: number | undefined;
  let lastSeenPushId: number | undefined;
  /** For /status: the newest bot push read, and how the last checks ended. */
  let lastCodeReviewPush: ReviewView["lastCodeReviewPush"];
  let lastCheck: Pick<ReviewView, "lastCheckAt" | "lastSuccessAt" | "lastError"> = {};
  /**
   * False while the last read of the Try queue was partial (another consumer held part of it, or
   * every message was unusable): the in-flight gauges would count only what this process saw.
   */
  let wholeView = true;
  /** Try push ids json-pushes did not list yet, and in how many checks in a row. */
  let absences: ReadonlyMap<number, number> = new Map();
  const staleAfterMs = 3 * deps.checkIntervalMs;

  function drop(reviews: readonly Review[], reason: "expired" | "overflow" | "aborted" | "no_target"): void {
    if (reviews.length === 0) return;
    metrics.reviewsDropped.inc({ reason }, reviews.length);
    log.warn({ reason, count: reviews.length, diffs: reviews.slice(0, 20).map((r) => r.diffPHID) }, "stopped tracking reviews without a result");
  }

  /** The bot's target of each code-review Try push, from the try_task_config.json of its commit. */
  async function withTargets(pushes: readonly FoundPush[], signal?: AbortSignal): Promise<FoundPush[]> {
    const out: FoundPush[] = [];
    await mapLimited(pushes, PARALLEL_FILES, async (found) => {
      const text = await deps.pushlog.fetchRawFile(deps.tryRepository, found.push.node, TRY_TASK_CONFIG, signal);
      const targetPHID = text === undefined ? undefined : targetOfTryTaskConfig(text);
      out.push(targetPHID === undefined ? found : { ...found, targetPHID });
    });
    return out.sort((a, b) => a.push.pushId - b.push.pushId);
  }

  /** The code-review pushes among full Try pushes. */
  function codeReviewPushes(pushes: Iterable<{ pushId: number; pushTime: number; changesets: Parameters<typeof findReviewCommit>[0] }>): FoundPush[] {
    const found: FoundPush[] = [];
    for (const push of pushes) {
      const commit = findReviewCommit(push.changesets);
      if (!commit) continue;
      if (!isUnixTime(push.pushTime)) {
        // A date no push can have measures nothing (push-time.ts).
        log.warn({ repository: deps.tryRepository, pushId: push.pushId, date: push.pushTime }, "a code-review Try push with an impossible date: not measured");
        continue;
      }
      found.push({
        diffPHID: commit.diffPHID,
        ...(commit.revisionId === undefined ? {} : { revisionId: commit.revisionId }),
        push: { pushId: push.pushId, pushTime: push.pushTime, node: commit.node },
      });
    }
    return found;
  }

  /**
   * What a restart had in flight: the code-review Try pushes of the last 24 h whose bot target has no
   * result yet. Read from the Try pushlog (by push id, whole pushes: never tipsonly, see pushlogPath) and the targets their
   * try_task_config.json names, so only code-review reviews are read back, never every waiting
   * target on the instance.
   */
  async function recover(signal?: AbortSignal): Promise<number> {
    const since = deps.now() / 1000 - REVIEW_LIMITS.maxAgeMs / 1000;
    const first = await deps.pushlog.firstPushIdSince(deps.tryRepository, since, signal);
    const candidates: FoundPush[] = [];
    for (let from = first - 1, last = Number.POSITIVE_INFINITY; from < last && from - first < MAX_RECOVERY_PUSHES; from += TRY_SLICE) {
      const slice = await deps.pushlog.fetchFullRange(deps.tryRepository, { startId: from, endId: from + TRY_SLICE }, signal);
      last = slice.lastPushId;
      for (const found of codeReviewPushes(slice.pushes.values())) if (found.push.pushTime >= since) candidates.push(found);
    }
    const latest = new Map<string, FoundPush>();
    for (const found of candidates) latest.set(found.diffPHID, found);
    const pushes = (await withTargets([...latest.values()], signal)).filter((f) => f.targetPHID !== undefined);
    const targets = await deps.reviews.targets(
      pushes.map((f) => f.targetPHID as string),
      signal,
    );
    const buildPHIDs = [...new Set([...targets.values()].map((t) => t.buildPHID))];
    const [builds, buildTargets] =
      buildPHIDs.length === 0
        ? [new Map<string, string>(), []]
        : await Promise.all([deps.reviews.buildStatuses(buildPHIDs, signal), deps.reviews.targetsOfBuilds(buildPHIDs, signal)]);
    const waiting = pushes.filter((f) => {
      const target = targets.get(f.targetPHID as string);
      return target !== undefined && reviewState(target, buildTargets, builds.get(target.buildPHID), deps.now() / 1000).state === "in_flight";
    });
    const facts = await deps.reviews.diffs(
      waiting.map((f) => f.diffPHID),
      signal,
    );
    const found = waiting.flatMap((f) => {
      const created = facts.get(f.diffPHID)?.dateCreated;
      return created === undefined
        ? []
        : [
            {
              diffPHID: f.diffPHID,
              diffCreated: created,
              targetPHID: f.targetPHID as string,
              push: f.push,
              ...(f.revisionId === undefined ? {} : { revisionId: f.revisionId }),
            },
          ];
    });
    const result = recoverReviews(book, found, deps.now());
    book = result.book;
    metrics.reviewsRecovered.inc(result.recovered);
    log.info({ recovered: result.recovered, codeReviewPushes: latest.size }, "read back the reviews in flight from the Try pushlog and Phabricator");
    return result.recovered;
  }

  /**
   * Reads the Try queue and the pushes it announces; acks what was read, hands back the rest. With
   * another consumer on the queue, or the queue lost, its view of Try is partial: it says so, and
   * the in-flight gauges go unknown until a whole read.
   */
  async function readTryPushes(signal: AbortSignal | undefined, report: PipelineReport): Promise<"read" | "shared"> {
    const read = await readQueue(deps, new Set([deps.tryRepository]), signal);
    report.messages = read.kind === "read" ? read.session.deliveries.length : read.messages;
    if (read.kind !== "read") {
      wholeView = false;
      if (read.kind === "failed") throw read.failure.cause;
      report.errors.push(`reading Try pushes: ${read.failure.message}`);
      return "shared";
    }
    const { session, plan } = read;
    try {
      const announced = (plan.pushesByRepository.get(deps.tryRepository) ?? []).map((p) => p.pushId);
      // A hole in the push ids is a Try push whose message was lost (a deleted queue, a restart while
      // it was unbound): the pushlog has it all the same. A lost queue may also have held pushes newer
      // than any still announced: everything up to the pushlog's last push id is read.
      const newest = maxOf(announced, lastSeenPushId ?? 0);
      const tail = read.queueLost && lastSeenPushId !== undefined ? idsAfter(newest, await deps.pushlog.lastPushId(deps.tryRepository, signal)) : [];
      const gaps = lastSeenPushId === undefined ? [] : [...missingPushIds(lastSeenPushId, announced), ...tail].slice(-MAX_GAP);
      const listed = new Set<number>();
      let lastPushId = 0;
      const bot: FoundPush[] = [];
      for (const range of pushIdRanges(
        [...new Set([...announced, ...gaps])].sort((a, b) => a - b),
        TRY_SLICE,
      )) {
        const slice = await deps.pushlog.fetchFullRange(deps.tryRepository, range, signal);
        lastPushId = Math.max(lastPushId, slice.lastPushId);
        for (const push of slice.pushes.values()) listed.add(push.pushId);
        const reviewPushes = codeReviewPushes(slice.pushes.values());
        bot.push(...reviewPushes);
        for (const { push } of reviewPushes) {
          if (push.pushId > (lastCodeReviewPush?.pushId ?? 0)) lastCodeReviewPush = { pushId: push.pushId, pushTime: push.pushTime };
        }
        metrics.tryPushes.inc({ kind: "other" }, slice.pushes.size - reviewPushes.length);
        report.tryPushes.other += slice.pushes.size - reviewPushes.length;
        metrics.tryPushes.inc({ kind: "code_review" }, reviewPushes.length);
        report.tryPushes.codeReview += reviewPushes.length;
      }
      const fresh = bot.filter((f) => !book.done.has(f.diffPHID) && !book.inFlight.get(f.diffPHID)?.tryPush);
      const found = await withTargets(fresh, signal);
      const untargeted = found.filter((f) => f.targetPHID === undefined);
      if (untargeted.length > 0) {
        // Without the bot's target there is no result to wait for: say so rather than track it for a day.
        metrics.reviewsDropped.inc({ reason: "no_target" }, untargeted.length);
        log.warn(
          { count: untargeted.length, diffs: untargeted.slice(0, 20).map((f) => f.diffPHID) },
          `a code-review Try push without a build target in its ${TRY_TASK_CONFIG}: not tracked`,
        );
      }
      const gapFound = gaps.filter((id) => listed.has(id)).length;
      if (gapFound > 0) {
        deps.messageMetrics.pushlogGapPushes.inc({ repository: deps.tryRepository }, gapFound);
        log.warn({ repository: deps.tryRepository, count: gapFound }, "found Try pushes in the pushlog that never arrived over Pulse");
      }
      const tracked = trackTryPushes(
        book,
        found.filter((f) => f.targetPHID !== undefined),
        deps.now(),
      );
      book = tracked.book;
      drop(tracked.overflow, "overflow");
      if (found.length > 0) log.info({ diffs: found.length, started: tracked.started, repeated: tracked.repeated }, "read code-review Try pushes");
      if (listed.size > 0) lastSeenPushId = maxOf(listed, lastSeenPushId ?? 0);

      // A push the pushlog does not list yet keeps its message on the queue for the next check; one it
      // will never list (stripped, or still absent after a few checks) is set aside.
      const settled = new Set(listed);
      const waiting: number[] = [];
      const givenUp = new Map<string, GiveUpReason>();
      for (const id of announced) {
        if (listed.has(id)) continue;
        const fate = absentPushFate(id, lastPushId, (absences.get(id) ?? 0) + 1);
        if (fate.wait) waiting.push(id);
        else {
          givenUp.set(givenUpKey(deps.tryRepository, id), fate.reason);
          settled.add(id);
          log.warn({ repository: deps.tryRepository, pushId: id, reason: fate.reason }, "json-pushes will not list this Try push: set aside");
        }
      }
      absences = absenceAfterCheck(absences, waiting);
      const settlement = await settleQueueRead(deps, read, { settled: new Map([[deps.tryRepository, settled]]), givenUp });
      if (settlement.failure !== undefined) throw settlement.failure.cause;
      const evidence = read.unusable.get(deps.tryRepository);
      wholeView = evidence === undefined;
      if (evidence !== undefined) throw new Error(evidence);
      return "read";
    } catch (error) {
      // Abandoning a settled session is a no-op: only what was not settled goes back.
      await session.abandon();
      throw error;
    }
  }

  /**
   * Creation times of the reviews that lack them, then each review's own target: the first time by
   * PHID (to learn its build and step), then every target of those builds (a restart adds a
   * generation) and the builds' statuses (an abort sets only the build's).
   */
  async function poll(signal: AbortSignal | undefined, report: PipelineReport): Promise<void> {
    const reviews = [...book.inFlight.values()];
    const undated = reviews.filter((r) => r.diffCreated === undefined).map((r) => r.diffPHID);
    const unplaced = reviews.filter((r) => r.targetPHID !== undefined && r.buildPHID === undefined).map((r) => r.targetPHID as string);
    const [facts, targets] = await Promise.all([
      undated.length > 0 ? deps.reviews.diffs(undated, signal) : new Map<string, DiffFacts>(),
      unplaced.length > 0 ? deps.reviews.targets(unplaced, signal) : new Map<string, BuildTarget>(),
    ]);
    book = describeReviews(book, { created: new Map([...facts].map(([phid, f]) => [phid, f.dateCreated])), targets });
    const taken = takeLatencies(book);
    book = taken.book;
    for (const { seconds } of taken.latencies) metrics.tryPushLatency.observe(seconds);

    const placed = [...book.inFlight.values()].filter((r) => r.buildPHID !== undefined);
    const buildPHIDs = [...new Set(placed.map((r) => r.buildPHID as string))];
    const [buildTargets, statuses] = await Promise.all([
      buildPHIDs.length > 0 ? deps.reviews.targetsOfBuilds(buildPHIDs, signal) : [],
      buildPHIDs.length > 0 ? deps.reviews.buildStatuses(buildPHIDs, signal) : new Map<string, string>(),
    ]);
    const byBuild = new Map<string, BuildTarget[]>();
    for (const t of buildTargets) byBuild.set(t.buildPHID, [...(byBuild.get(t.buildPHID) ?? []), t]);
    const nowSec = deps.now() / 1000;
    const states = new Map<string, TargetState>();
    for (const review of placed) {
      const own = (byBuild.get(review.buildPHID as string) ?? []).find((t) => t.phid === review.targetPHID);
      if (own) states.set(review.diffPHID, reviewState(own, byBuild.get(own.buildPHID) ?? [], statuses.get(own.buildPHID), nowSec));
    }
    const ended = finishReviews(book, states, deps.now());
    book = ended.book;
    for (const { review, outcome, seconds } of ended.finished) {
      metrics.reviewDuration.observe({ outcome }, seconds);
      report.finished.push({ diffPHID: review.diffPHID, outcome, seconds });
      log.info({ diff: review.diffPHID, revision: review.revisionId, target: review.targetPHID, outcome, seconds }, "review finished");
    }
    drop(ended.aborted, "aborted");
    polledAt = deps.now();
  }

  const view = (): ReviewView => ({ book, whole: recovered && wholeView, polledAt, lastCodeReviewPush, ...lastCheck });

  function summary(nowMs: number): { count: number; oldestSeconds: number } | undefined {
    return reviewsInFlightAt(view(), nowMs, staleAfterMs);
  }

  async function runCheck(signal?: AbortSignal): Promise<PipelineReport> {
    const started = deps.now();
    const report: PipelineReport = {
      ok: true,
      errors: [],
      messages: 0,
      tryPushes: { codeReview: 0, other: 0 },
      recovered: 0,
      finished: [],
      inFlight: undefined,
      oldestSeconds: undefined,
      durationMs: 0,
    };
    const attempt = async <T>(what: string, step: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await step();
      } catch (error) {
        const message = signal?.aborted ? "check stopped" : `${what}: ${(error as Error).message}`;
        report.errors.push(message);
        log.error({ err: message }, "code-review pipeline check step failed");
        return undefined;
      }
    };
    // With another instance on the Try queue, that instance reads back, polls and measures; this one
    // would only add what it half sees.
    const queue = await attempt("reading Try pushes", () => readTryPushes(signal, report));
    if (queue !== "shared") {
      if (!recovered) {
        // After the queue: the pushes still on it are read as pushes (their latency measured); recovery
        // adds only those whose messages a process before this one had already acked.
        await attempt("reading back the reviews in flight", async () => {
          report.recovered = await recover(signal);
          recovered = true;
        });
      }
      await attempt("polling build targets", () => poll(signal, report));
    }
    const expired = expireReviews(book, deps.now());
    book = expired.book;
    drop(expired.expired, "expired");

    const at = deps.now();
    report.ok = report.errors.length === 0;
    metrics.pipelineChecks.inc();
    if (report.ok) metrics.lastPipelineCheckSuccess.set(at / 1000);
    else metrics.pipelineCheckFailures.inc();
    lastCheck = { lastCheckAt: at, lastSuccessAt: report.ok ? at : lastCheck.lastSuccessAt, lastError: report.ok ? undefined : report.errors.join("; ") };
    const now = summary(at);
    report.inFlight = now?.count;
    report.oldestSeconds = now?.oldestSeconds;
    report.durationMs = at - started;
    deps.publish(view());
    log[report.ok ? "info" : "error"](
      {
        tryPushes: report.tryPushes,
        inFlight: report.inFlight,
        oldestSeconds: report.oldestSeconds,
        finished: report.finished.length,
        durationMs: report.durationMs,
        errors: report.errors,
      },
      report.ok ? "code-review pipeline check done" : "code-review pipeline check failed",
    );
    return report;
  }

  return {
    runCheck,
    inFlight: summary,
    /** The tracked review of a diff, for display. */
    review: (diffPHID: string) => book.inFlight.get(diffPHID),
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** The printed line for a pipeline check, next to the replication lines. */
export function formatPipelineReport(tryRepository: string, report: PipelineReport): string {
  const inFlight = report.inFlight === undefined ? "unknown" : String(report.inFlight);
  const oldest = report.oldestSeconds === undefined ? "unknown" : String(report.oldestSeconds);
  const failure = report.ok ? "" : ` [check failed: ${report.errors.join("; ")}]`;
  return `${tryRepository} code-review pipeline: ${report.tryPushes.codeReview} code-review and ${report.tryPushes.other} other Try pushes read, ${report.finished.length} reviews finished, in flight: ${inFlight}, oldest in flight (seconds): ${oldest}${failure}`;
}
