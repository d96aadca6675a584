// One check of the code-review pipeline: read the Try pushes waiting on our Try queue, find the
// code-review bot's among them, and move each diff along: created → pushed to Try → result on its
// Harbormaster build target. It has its own queue and runs after the replication check, so Try
// traffic can neither delay nor reorder that check. The decisions are core/review-commit.ts and
// core/reviews.ts; this module moves data between them, Pulse, the pushlog and Conduit.
import type { DiffFacts, ReviewLookup } from "./adapters/review-lookup.ts";
import type { QueueCheckDeps } from "./monitor.ts";
import { planCheck, settleCheck } from "./core/check-plan.ts";
import { decodeHgpushMessage } from "./core/hgpush-message.ts";
import { pushIdRanges } from "./core/push-walk.ts";
import { missingPushIds } from "./core/pushlog-gaps.ts";
import { findReviewCommit } from "./core/review-commit.ts";
import { absenceAfterCheck, absentPushFate, type GiveUpReason } from "./core/absent-pushes.ts";
import {
  EMPTY_BOOK,
  REVIEW_LIMITS,
  describeReviews,
  expireReviews,
  finishReviews,
  inFlightSummary,
  recoverReviews,
  takeLatencies,
  targetState,
  trackTryPushes,
  type Review,
  type ReviewBook,
  type TargetState,
} from "./core/reviews.ts";
import { accountMessages } from "./message-accounting.ts";

/** Try pushes per full=1 request: people's pushes can carry hundreds of changesets each. */
export const TRY_SLICE = 50;
/** Push ids missing between two messages that are looked up in the pushlog, at most, per check. */
const MAX_GAP = 1000;

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

  function drop(reviews: readonly Review[], reason: "expired" | "overflow" | "aborted"): void {
    if (reviews.length === 0) return;
    metrics.reviewsDropped.inc({ reason }, reviews.length);
    log.warn({ reason, count: reviews.length, diffs: reviews.slice(0, 20).map((r) => r.diffPHID) }, "stopped tracking reviews without a result");
  }

  /** Reviews whose build target still waits for the bot, created in the last 24 h: what a restart had in flight. */
  async function recover(signal?: AbortSignal): Promise<number> {
    const since = deps.now() / 1000 - REVIEW_LIMITS.maxAgeMs / 1000;
    const builds = await deps.reviews.waitingBuilds(since, signal);
    const diffOfBuild = await deps.reviews.diffsOfBuilds(builds, signal);
    const facts = await deps.reviews.diffs([...new Set(diffOfBuild.values())], signal);
    const buildsOfDiff = new Map<string, string[]>();
    for (const [build, diff] of diffOfBuild) buildsOfDiff.set(diff, [...(buildsOfDiff.get(diff) ?? []), build]);
    const found = [...buildsOfDiff].flatMap(([diffPHID, buildPHIDs]) => {
      const created = facts.get(diffPHID)?.dateCreated;
      return created === undefined ? [] : [{ diffPHID, diffCreated: created, buildPHIDs }];
    });
    const result = recoverReviews(book, found, deps.now());
    book = result.book;
    metrics.reviewsRecovered.inc(result.recovered);
    log.info({ recovered: result.recovered, waitingTargets: builds.length }, "read back the reviews in flight from Phabricator");
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
      const found: Array<{ diffPHID: string; revisionId?: number; push: { pushId: number; pushTime: number; node: string } }> = [];
      let lastPushId = 0;
      for (const range of pushIdRanges([...announced, ...gaps].sort((a, b) => a - b), TRY_SLICE)) {
        const slice = await deps.pushlog.fetchFullRange(deps.tryRepository, range, signal);
        lastPushId = Math.max(lastPushId, slice.lastPushId);
        for (const push of slice.pushes.values()) {
          read.add(push.pushId);
          const commit = findReviewCommit(push.changesets);
          if (!commit) {
            metrics.tryPushes.inc({ kind: "other" });
            report.tryPushes.other++;
            continue;
          }
          metrics.tryPushes.inc({ kind: "code_review" });
          report.tryPushes.codeReview++;
          found.push({
            diffPHID: commit.diffPHID,
            ...(commit.revisionId === undefined ? {} : { revisionId: commit.revisionId }),
            push: { pushId: push.pushId, pushTime: push.date, node: commit.node },
          });
        }
      }
      const gapFound = gaps.filter((id) => read.has(id)).length;
      if (gapFound > 0) {
        metrics.pushlogGapPushes.inc({ repository: deps.tryRepository }, gapFound);
        log.warn({ repository: deps.tryRepository, count: gapFound }, "found Try pushes in the pushlog that never arrived over Pulse");
      }
      const tracked = trackTryPushes(book, found, deps.now());
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
      if (deps.readOnly) await session.abandon();
      else if (!(await session.settle(settlement.ack)) && session.deliveries.length > 0) {
        throw new Error("the broker did not take the acks; the Try messages stay queued");
      } else {
        for (const carrier of plan.carriers.values()) {
          const reason = carrier.pushIds.map((id) => givenUp.get(id)).find((r) => r !== undefined);
          if (reason !== undefined) metrics.messagesRejected.inc({ reason });
        }
      }
      for (const [pushId, reason] of givenUp) log.warn({ repository: deps.tryRepository, pushId, reason }, "json-pushes will not list this Try push: set aside");
    } catch (error) {
      await session.abandon();
      throw error;
    }
  }

  /** Creation times and builds of the reviews that lack them, then the state of every build target. */
  async function poll(signal: AbortSignal | undefined, report: PipelineReport): Promise<void> {
    const reviews = [...book.inFlight.values()];
    const undated = reviews.filter((r) => r.diffCreated === undefined).map((r) => r.diffPHID);
    const unbuilt = reviews.filter((r) => r.buildPHIDs === undefined).map((r) => r.diffPHID);
    const [facts, builds] = await Promise.all([
      undated.length > 0 ? deps.reviews.diffs(undated, signal) : new Map<string, DiffFacts>(),
      unbuilt.length > 0 ? deps.reviews.buildsOfDiffs(unbuilt, signal) : new Map<string, string[]>(),
    ]);
    book = describeReviews(book, { created: new Map([...facts].map(([phid, f]) => [phid, f.dateCreated])), builds });
    const taken = takeLatencies(book);
    book = taken.book;
    for (const { seconds } of taken.latencies) metrics.tryPushLatency.observe(seconds);

    const withBuilds = [...book.inFlight.values()].filter((r) => r.buildPHIDs && r.buildPHIDs.length > 0);
    const targets = await deps.reviews.targetsOfBuilds(withBuilds.flatMap((r) => r.buildPHIDs ?? []), signal);
    const states = new Map<string, TargetState>(withBuilds.map((r) => [r.diffPHID, targetState((r.buildPHIDs ?? []).flatMap((b) => targets.get(b) ?? []))]));
    const ended = finishReviews(book, states, deps.now());
    book = ended.book;
    for (const { review, outcome, seconds } of ended.finished) {
      metrics.reviewDuration.observe({ outcome }, seconds);
      report.finished.push({ diffPHID: review.diffPHID, outcome, seconds });
      log.info({ diff: review.diffPHID, revision: review.revisionId, outcome, seconds }, "review finished");
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
    if (!recovered) {
      await attempt("reading back the reviews in flight", async () => {
        report.recovered = await recover(signal);
        recovered = true;
      });
    }
    await attempt("reading Try pushes", () => readTryPushes(signal, report));
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
