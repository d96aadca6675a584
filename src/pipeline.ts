// One check of the code-review pipeline: read the Try pushes waiting on our Try queue, find the
// code-review bot's among them, and move each diff along: created → pushed to Try → result on its
// Harbormaster build target. It has its own queue and runs after the replication check, so Try
// traffic can neither delay nor reorder that check. The decisions are core/review-commit.ts and
// core/reviews.ts; this module moves data between them, Pulse, the pushlog and Conduit.
import type { DiffFacts, ReviewLookup } from "./adapters/review-lookup.ts";
import type { BuildTarget } from "./core/reviews.ts";
import type { QueueCheckDeps } from "./monitor.ts";
import { planCheck, settleCheck } from "./core/check-plan.ts";
import { decodeHgpushMessage } from "./core/hgpush-message.ts";
import { pushIdRanges } from "./core/push-walk.ts";
import { missingPushIds } from "./core/pushlog-gaps.ts";
import { TRY_TASK_CONFIG, findReviewCommit, targetOfTryTaskConfig } from "./core/review-commit.ts";
import { mapLimited } from "./adapters/upstream.ts";
import { absenceAfterCheck, absentPushFate, type GiveUpReason } from "./core/absent-pushes.ts";
import {
  EMPTY_BOOK,
  REVIEW_LIMITS,
  describeReviews,
  expireReviews,
  finishReviews,
  inFlightSummary,
  recoverReviews,
  reviewState,
  takeLatencies,
  trackTryPushes,
  type Review,
  type ReviewBook,
  type TargetState,
} from "./core/reviews.ts";
import { accountMessages, keepSetAside } from "./message-accounting.ts";

/** Try pushes per full=1 request: people's pushes can carry hundreds of changesets each. */
export const TRY_SLICE = 50;
/** Push ids missing between two messages that are looked up in the pushlog, at most, per check. */
const MAX_GAP = 1000;
/** try_task_config.json files read at once. */
const PARALLEL_FILES = 4;
/** Try pushes read back at start-up, at most (tips only, 200 a request): well over a day of Try. */
const MAX_RECOVERY_PUSHES = 10_000;

type FoundPush = { diffPHID: string; revisionId?: number; targetPHID?: string; push: { pushId: number; pushTime: number; node: string } };

export interface PipelineDeps extends QueueCheckDeps {
  tryRepository: string;
  reviews: ReviewLookup;
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

  /** The code-review pushes among full (tips-only or not) Try pushes. */
  function codeReviewPushes(pushes: Iterable<{ pushId: number; date: number; changesets: Parameters<typeof findReviewCommit>[0] }>): FoundPush[] {
    const found: FoundPush[] = [];
    for (const push of pushes) {
      const commit = findReviewCommit(push.changesets);
      if (!commit) continue;
      found.push({
        diffPHID: commit.diffPHID,
        ...(commit.revisionId === undefined ? {} : { revisionId: commit.revisionId }),
        push: { pushId: push.pushId, pushTime: push.date, node: commit.node },
      });
    }
    return found;
  }

  /**
   * What a restart had in flight: the code-review Try pushes of the last 24 h whose bot target has no
   * result yet. Read from the Try pushlog (by push id, tips only) and the targets their
   * try_task_config.json names, so only code-review reviews are read back, never every waiting
   * target on the instance.
   */
  async function recover(signal?: AbortSignal): Promise<number> {
    const since = deps.now() / 1000 - REVIEW_LIMITS.maxAgeMs / 1000;
    const first = await deps.pushlog.firstPushIdSince(deps.tryRepository, since, signal);
    const candidates: FoundPush[] = [];
    for (let from = first - 1, last = Number.POSITIVE_INFINITY; from < last && from - first < MAX_RECOVERY_PUSHES; from += TRY_SLICE * 4) {
      const slice = await deps.pushlog.fetchTipsRange(deps.tryRepository, { startId: from, endId: from + TRY_SLICE * 4 }, signal);
      last = slice.lastPushId;
      for (const found of codeReviewPushes(slice.pushes.values())) if (found.push.pushTime >= since) candidates.push(found);
    }
    const latest = new Map<string, FoundPush>();
    for (const found of candidates) latest.set(found.diffPHID, found);
    const pushes = (await withTargets([...latest.values()], signal)).filter((f) => f.targetPHID !== undefined);
    const targets = await deps.reviews.targets(pushes.map((f) => f.targetPHID as string), signal);
    const buildPHIDs = [...new Set([...targets.values()].map((t) => t.buildPHID))];
    const [builds, buildTargets] = buildPHIDs.length === 0 ? [new Map<string, string>(), []] : await Promise.all([deps.reviews.buildStatuses(buildPHIDs, signal), deps.reviews.targetsOfBuilds(buildPHIDs, signal)]);
    const waiting = pushes.filter((f) => {
      const target = targets.get(f.targetPHID as string);
      return target !== undefined && reviewState(target, buildTargets, builds.get(target.buildPHID), deps.now() / 1000).state === "in_flight";
    });
    const facts = await deps.reviews.diffs(waiting.map((f) => f.diffPHID), signal);
    const found = waiting.flatMap((f) => {
      const created = facts.get(f.diffPHID)?.dateCreated;
      return created === undefined ? [] : [{ diffPHID: f.diffPHID, diffCreated: created, targetPHID: f.targetPHID as string, push: f.push, ...(f.revisionId === undefined ? {} : { revisionId: f.revisionId }) }];
    });
    const result = recoverReviews(book, found, deps.now());
    book = result.book;
    metrics.reviewsRecovered.inc(result.recovered);
    log.info({ recovered: result.recovered, codeReviewPushes: latest.size }, "read back the reviews in flight from the Try pushlog and Phabricator");
    return result.recovered;
  }

  /** Reads the Try queue and the pushes it announces; acks what was read, hands back the rest. */
  async function readTryPushes(signal: AbortSignal | undefined, report: PipelineReport): Promise<void> {
    const session = await deps.drain({ queue: deps.queue, maxMessages: deps.maxMessagesPerCheck, idleMs: deps.drainIdleMs ?? 1000, signal });
    report.messages = session.deliveries.length;
    deps.recordDepth(deps.queue, session.depthAtStart);
    try {
      const decoded = session.deliveries.map((d) => decodeHgpushMessage({ body: d.body, contentType: d.contentType, routingKey: d.routingKey }, deps.hgUrl));
      const monitored = new Set([deps.tryRepository]);
      const plan = planCheck(decoded.map((message, index) => ({ index, decoded: message })), monitored);
      accountMessages(session.deliveries, decoded, plan, { monitored, metrics, log, atMs: deps.now() });

      const announced = (plan.pushesByRepository.get(deps.tryRepository) ?? []).map((p) => p.pushId);
      // A hole in the push ids is a Try push whose message was lost (a deleted queue, a restart while
      // it was unbound): the pushlog has it all the same.
      const gaps = lastSeenPushId === undefined ? [] : missingPushIds(lastSeenPushId, announced).slice(-MAX_GAP);
      const read = new Set<number>();
      let lastPushId = 0;
      const bot: FoundPush[] = [];
      for (const range of pushIdRanges([...announced, ...gaps].sort((a, b) => a - b), TRY_SLICE)) {
        const slice = await deps.pushlog.fetchFullRange(deps.tryRepository, range, signal);
        lastPushId = Math.max(lastPushId, slice.lastPushId);
        for (const push of slice.pushes.values()) read.add(push.pushId);
        const reviewPushes = codeReviewPushes(slice.pushes.values());
        bot.push(...reviewPushes);
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
        log.warn({ count: untargeted.length, diffs: untargeted.slice(0, 20).map((f) => f.diffPHID) }, `a code-review Try push without a build target in its ${TRY_TASK_CONFIG}: not tracked`);
      }
      const gapFound = gaps.filter((id) => read.has(id)).length;
      if (gapFound > 0) {
        metrics.pushlogGapPushes.inc({ repository: deps.tryRepository }, gapFound);
        log.warn({ repository: deps.tryRepository, count: gapFound }, "found Try pushes in the pushlog that never arrived over Pulse");
      }
      const tracked = trackTryPushes(book, found.filter((f) => f.targetPHID !== undefined), deps.now());
      book = tracked.book;
      drop(tracked.overflow, "overflow");
      if (found.length > 0) log.info({ diffs: found.length, started: tracked.started, repeated: tracked.repeated }, "read code-review Try pushes");
      if (read.size > 0) lastSeenPushId = Math.max(lastSeenPushId ?? 0, ...read);

      // A push the pushlog does not list yet keeps its message on the queue for the next check; one it
      // will never list (stripped, or still absent after a few checks) is set aside.
      const settled = new Set(read);
      const waiting: number[] = [];
      const givenUp = new Map<number, GiveUpReason>();
      for (const id of announced) {
        if (read.has(id)) continue;
        const fate = absentPushFate(id, lastPushId, (absences.get(id) ?? 0) + 1);
        if (fate.wait) waiting.push(id);
        else {
          givenUp.set(id, fate.reason);
          settled.add(id);
        }
      }
      absences = absenceAfterCheck(absences, waiting);
      const settlement = settleCheck(plan, new Map([[deps.tryRepository, settled]]), session.deliveries.length);
      const acking = new Set(settlement.ack);
      const copies = [
        ...plan.setAside.flatMap((a) => (a.outcome === "rejected" ? [{ index: a.index, reason: a.reason }] : [])),
        ...[...plan.carriers].flatMap(([index, carrier]) => {
          const reason = carrier.pushIds.map((id) => givenUp.get(id)).find((r) => r !== undefined);
          return reason === undefined ? [] : [{ index, reason }];
        }),
      ]
        .filter((c) => acking.has(c.index))
        .map((c) => ({ ...c, delivery: session.deliveries[c.index] as (typeof session.deliveries)[number] }));
      if (deps.readOnly) await session.abandon();
      else {
        const ack = await keepSetAside(copies, settlement.ack, { copyAside: deps.copyAside, metrics, log, nowMs: deps.now() });
        if (!(await session.settle(ack)) && session.deliveries.length > 0) throw new Error("the broker did not take the acks; the Try messages stay queued");
        // The decoder's rejections were counted as they were read; a message given up is counted once it is gone.
        const acked = new Set(ack);
        for (const c of copies) if (acked.has(c.index) && (c.reason === "stripped" || c.reason === "not_replicated")) metrics.messagesRejected.inc({ reason: c.reason });
      }
      for (const [pushId, reason] of givenUp) log.warn({ repository: deps.tryRepository, pushId, reason }, "json-pushes will not list this Try push: set aside");
    } catch (error) {
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

  function summary(nowMs: number): { count: number; oldestSeconds: number } | undefined {
    if (!recovered || polledAt === undefined || nowMs - polledAt > staleAfterMs) return undefined;
    return inFlightSummary(book, nowMs);
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
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        const message = signal?.aborted ? "check stopped" : `${what}: ${(error as Error).message}`;
        report.errors.push(message);
        log.error({ err: message }, "code-review pipeline check step failed");
      }
    };
    await attempt("reading Try pushes", () => readTryPushes(signal, report));
    // After the queue: the pushes still on it are read as pushes (their latency measured); recovery
    // adds only those whose messages a process before this one had already acked.
    if (!recovered) {
      await attempt("reading back the reviews in flight", async () => {
        report.recovered = await recover(signal);
        recovered = true;
      });
    }
    await attempt("polling build targets", () => poll(signal, report));
    const expired = expireReviews(book, deps.now());
    book = expired.book;
    drop(expired.expired, "expired");

    const at = deps.now();
    report.ok = report.errors.length === 0;
    metrics.pipelineChecks.inc();
    if (report.ok) metrics.lastPipelineCheckSuccess.set(at / 1000);
    else metrics.pipelineCheckFailures.inc();
    const now = summary(at);
    report.inFlight = now?.count;
    report.oldestSeconds = now?.oldestSeconds;
    report.durationMs = at - started;
    log[report.ok ? "info" : "error"](
      { tryPushes: report.tryPushes, inFlight: report.inFlight, oldestSeconds: report.oldestSeconds, finished: report.finished.length, durationMs: report.durationMs, errors: report.errors },
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
