// The code-review pipeline check on the one contract (src/run/check.ts): read the Try pushes waiting
// on its queue and the code-review bot's among them, read back at start-up what a restart had in
// flight, and poll Phabricator for the reviews' results (gather: the I/O); then move each diff along,
// created → pushed to Try → result, measure, and settle the Try messages (decide.ts: pure). It has its
// own queue and runs after the replication check, so Try traffic can neither delay nor reorder it.
import type { Logger } from "pino";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { hgpushReader, type HgpushPlan } from "../hgpush/read-plan.ts";
import { SharedQueueError, checkFailure, type CheckFailure } from "../run/check-failure.ts";
import type { Conclusion, Decision, Measurement, Note, QueueCheck, QueueInput, Settled } from "../run/check.ts";
import type { ReviewLookup } from "../phabricator/review-lookup.ts";
import { reviewsInFlightAt } from "./reviews.ts";
import { readTryPushes, type TryPushesRead } from "./read-try-pushes.ts";
import { readBack } from "./recover.ts";
import { pollReviews } from "./poll.ts";
import { advanceBook, afterTryPushes, settleTryMessages, trackAndRecover, type ReviewEvidence } from "./decide.ts";
import { NEW_REVIEW_STATE, reviewView, type ReviewState } from "./state.ts";
import type { PipelineReport } from "./report.ts";
import { crossedStuck, stuckNotes } from "./stuck.ts";

export interface ReviewDeps {
  tryRepository: string;
  queue: string;
  hgUrl: string;
  pushlog: PushlogClient;
  reviews: ReviewLookup;
  staleAfterMs: number;
  log: Logger;
  now: () => number;
}

interface Draft {
  next: ReviewState;
  unsettledBook: ReviewState["book"];
  failures: CheckFailure[];
  started: number;
  messages: number;
  tryPushes: PipelineReport["tryPushes"];
  recovered: number;
  finished: PipelineReport["finished"];
}

/** A step of gather that fails is a failure of the run, and the run goes on with the next step. */
async function step<T>(failures: CheckFailure[], make: (err: unknown) => CheckFailure, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    failures.push(make(err));
    return undefined;
  }
}

export function createReviewCheck(deps: ReviewDeps): QueueCheck<ReviewState, HgpushPlan, ReviewEvidence, Draft, PipelineReport> {
  const reader = hgpushReader(deps.hgUrl, new Set([deps.tryRepository]));
  const ports = { tryRepository: deps.tryRepository, pushlog: deps.pushlog, reviews: deps.reviews };

  async function gather(input: QueueInput<HgpushPlan>, state: ReviewState, signal: AbortSignal | undefined): Promise<ReviewEvidence> {
    const started = deps.now();
    const failures: CheckFailure[] = [];
    // With another instance on the Try queue, that instance reads back, polls and measures; this one would only add what it half sees.
    if (input.kind === "not_read" && input.failure.cause instanceof SharedQueueError) {
      return { started, shared: true, tryPushes: undefined, recovered: undefined, poll: undefined, failures };
    }
    const tryPushes =
      input.kind === "read"
        ? await step(
            failures,
            (err) => checkFailure("pushlog", "hgmo", err, { context: "reading Try pushes", signal }),
            () =>
              readTryPushes(
                (input.plan.pushesByRepository.get(deps.tryRepository) ?? []).map((p) => p.pushId),
                input.queueLost,
                state,
                ports,
                signal,
              ),
          )
        : undefined;
    // After the queue: the pushes still on it are read as pushes (their latency measured); the
    // read-back adds only those whose messages a process before this one had already acked.
    const recovered = state.recovered
      ? undefined
      : await step(
          failures,
          (err) => checkFailure("recovery", "phabricator", err, { context: "reading back the reviews in flight", signal }),
          () => readBack(ports, deps.now(), signal),
        );
    const book = trackAndRecover(state.book, tryPushes, recovered, deps.now()).book;
    const poll = await step(
      failures,
      (err) => checkFailure("poll", "phabricator", err, { context: "polling build targets", signal }),
      () => pollReviews(book, deps.reviews, signal),
    );
    return { started, shared: false, tryPushes, recovered, poll, failures };
  }

  return {
    name: "code_review",
    queue: deps.queue,
    subjects: [{ key: "code_review", labels: {} }],
    initial: NEW_REVIEW_STATE,
    onDelivery: reader.onDelivery,
    plan: reader.plan,
    gather,
    decide: (input, state, evidence, nowMs) => decide(input, state, evidence, nowMs, deps.tryRepository),
    conclude: (draft, settled, nowMs) => conclude(draft, settled, nowMs, deps.staleAfterMs),
  };
}

/** The measurements and lines of what the Try pushlog said this run. */
function tryPushesRead(read: TryPushesRead, tryRepository: string): { measurements: Measurement[]; notes: Note[] } {
  const codeReview = read.bot.length;
  const measurements: Measurement[] = [
    { metric: "phabmon_try_pushes_total", labels: { kind: "code_review" }, inc: codeReview },
    { metric: "phabmon_try_pushes_total", labels: { kind: "other" }, inc: read.others },
  ];
  const notes: Note[] = [];
  if (read.gapFound > 0) {
    measurements.push({ metric: "phabmon_pushlog_gap_pushes_total", labels: { repository: tryRepository }, inc: read.gapFound });
    notes.push({
      level: "warn",
      msg: "found Try pushes in the pushlog that never arrived over Pulse",
      fields: { repository: tryRepository, count: read.gapFound },
    });
  }
  for (const { pushId, date } of read.impossible) {
    notes.push({ level: "warn", msg: "a code-review Try push with an impossible date: not measured", fields: { repository: tryRepository, pushId, date } });
  }
  if (codeReview > 0) notes.push({ level: "info", msg: "read code-review Try pushes", fields: { diffs: codeReview } });
  return { measurements, notes };
}

/** Each diff moved along, what is measured, and which Try messages are done with. */
function decide(input: QueueInput<HgpushPlan>, state: ReviewState, evidence: ReviewEvidence, nowMs: number, tryRepository: string): Decision<Draft> {
  const outcome = advanceBook(state.book, evidence, nowMs);
  const settle =
    input.kind === "read"
      ? settleTryMessages(input.plan, tryRepository, evidence.tryPushes, state)
      : { ack: [], setAside: [], absences: state.absences, notes: [] };
  const read = evidence.tryPushes;
  const failures = [...evidence.failures];
  if (input.kind === "not_read")
    failures.unshift(checkFailure(input.failure.step, input.failure.service, input.failure.cause, { context: "reading Try pushes" }));
  const unusable = input.kind === "read" ? input.plan.unusable.get(tryRepository) : undefined;
  if (unusable !== undefined) failures.push(checkFailure("input", "pulse", new Error(unusable)));
  const fromTry = read === undefined ? { measurements: [], notes: [] } : tryPushesRead(read, tryRepository);
  const stuck = crossedStuck(outcome.book, state.stuckSaid, nowMs, evidence.poll !== undefined);
  const next: ReviewState = {
    ...state,
    ...afterTryPushes(state, read),
    book: outcome.book,
    recovered: state.recovered || evidence.recovered !== undefined,
    polledAt: evidence.poll === undefined ? state.polledAt : nowMs,
    absences: settle.absences,
    stuckSaid: stuck.said,
    wholeView: !evidence.shared && unusable === undefined && !(input.kind === "not_read"),
  };
  const draft: Draft = {
    next,
    unsettledBook: outcome.unsettledBook,
    failures,
    started: evidence.started,
    messages: input.kind === "read" ? input.deliveries.length : input.messages,
    tryPushes: { codeReview: read?.bot.length ?? 0, other: read?.others ?? 0 },
    recovered: outcome.recovered,
    finished: outcome.finished,
  };
  return {
    ack: settle.ack,
    setAside: settle.setAside,
    measurements: [...outcome.measurements, ...fromTry.measurements],
    notes: [...outcome.notes, ...settle.notes, ...fromTry.notes, ...stuckNotes(stuck.crossed)],
    draft,
  };
}

function conclude(draft: Draft, settled: Settled, nowMs: number, staleAfterMs: number): Conclusion<ReviewState, PipelineReport> {
  const failures = settled.failure === undefined ? draft.failures : [...draft.failures, settled.failure];
  const ok = failures.length === 0;
  const state: ReviewState = {
    ...draft.next,
    // Measured only once the broker took the acks: otherwise what this run measured is measured again.
    book: settled.acked ? draft.next.book : draft.unsettledBook,
    lastCheckAt: nowMs,
    lastSuccessAt: ok ? nowMs : draft.next.lastSuccessAt,
    lastError: ok ? undefined : failures.map((f) => f.message).join("; "),
  };
  const summary = reviewsInFlightAt(reviewView(state), nowMs, staleAfterMs);
  const report: PipelineReport = {
    ok,
    errors: failures.map((f) => f.message),
    messages: draft.messages,
    tryPushes: draft.tryPushes,
    recovered: draft.recovered,
    finished: draft.finished,
    inFlight: summary?.count,
    oldestSeconds: summary?.oldestSeconds,
    durationMs: nowMs - draft.started,
  };
  const fields = {
    tryPushes: report.tryPushes,
    inFlight: report.inFlight,
    oldestSeconds: report.oldestSeconds,
    finished: report.finished.length,
    durationMs: report.durationMs,
    errors: report.errors,
  };
  return {
    state,
    failures: failures[0] === undefined ? new Map() : new Map([["code_review", failures[0]]]),
    report,
    notes: [{ level: ok ? "info" : "error", msg: ok ? "code-review pipeline check done" : "code-review pipeline check failed", fields }],
  };
}
