// The replication check on the one contract (src/run/check.ts): per repository, the pushes its
// messages announce and those held from before are verified in push order against the pushlog and
// the mirror (gather: the only I/O); then what is verified or given up is acked, the rest handed
// back, and the lag state moves (decide and conclude: pure, over replication-state.ts and lag.ts).
import type { Logger } from "pino";
import type { Repository } from "../config/config.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { mirrorName, type Mirror } from "../mirror/mirror.ts";
import type { Push } from "../hgpush/hgpush-message.ts";
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";
import { hgpushReader, type HgpushPlan } from "../hgpush/read-plan.ts";
import { SharedQueueError, checkFailure, failureReason, type CheckFailure } from "../run/check-failure.ts";
import type { Conclusion, Decision, Measurement, Note, QueueCheck, QueueInput, Subject } from "../run/check.ts";
import { lagSeconds, replicationDelays } from "../run/lag.ts";
import { lagPoint } from "../run/lag-history.ts";
import {
  NEW_WATCH,
  pushesToWalk,
  settledIds,
  watchAfterCheck,
  watchAfterGapSearch,
  watchAfterLag,
  watchAfterVerification,
  type RepositoryWatch,
} from "./replication-state.ts";
import { findGapPushes } from "./find-gap-pushes.ts";
import { NOTHING_TO_VERIFY, verifyRepository, type Verification } from "./verify-repository.ts";
import type { CheckReport, RepositoryReport } from "./report.ts";

/** What the replication check carries between runs: one value per repository. */
export type ReplicationBook = ReadonlyMap<string, RepositoryWatch>;

export interface ReplicationDeps {
  repositories: readonly Repository[];
  queue: string;
  hgUrl: string;
  pushlog: PushlogClient;
  /** Each repository's mirror, by path (src/mirror/mirror.ts). */
  mirrors: ReadonlyMap<string, Mirror>;
  staleAfterMs: number;
  log: Logger;
  now: () => number;
}

interface RepositoryEvidence {
  repo: Repository;
  found: Push[];
  gapFailure: CheckFailure | undefined;
  verification: Verification;
}

type Evidence = { started: number; repositories: RepositoryEvidence[] };

interface RepositoryDraft {
  repo: Repository;
  watch: RepositoryWatch;
  verification: Verification | undefined;
  failure: CheckFailure | undefined;
  receivedNew: boolean;
}

interface Draft {
  started: number;
  messages: number;
  queueFailure: CheckFailure | undefined;
  repositories: RepositoryDraft[];
}

/** The log line of a push set aside, by why. */
const GIVEN_UP: Record<GiveUpReason, string> = {
  stripped: "json-pushes does not list this push although its id is at or below lastpushid (stripped): set aside",
  not_replicated: "json-pushes still does not list this push after several checks: set aside",
  no_git_commit: "the pushlog names no Git commit for any changeset of this push, so a Git mirror cannot be asked about it: set aside",
  bad_time: "the pushlog gives this push a date no push can have: set aside as bad input",
};

/** The contract's labels of the per-repository replication series. */
export const labelsOf = (repo: Repository) => ({ repository: repo.path, callsign: mirrorName(repo.mirror) });

export function createReplicationCheck(deps: ReplicationDeps): QueueCheck<ReplicationBook, HgpushPlan, Evidence, Draft, CheckReport> {
  const reader = hgpushReader(deps.hgUrl, new Set(deps.repositories.map((r) => r.path)));
  const mirrorOf = (repo: Repository): Mirror => {
    const mirror = deps.mirrors.get(repo.path);
    if (mirror === undefined) throw new Error(`no mirror for ${repo.path}`);
    return mirror;
  };
  const subjects: Subject[] = deps.repositories.map((r) => ({ key: r.path, labels: { repository: r.path } }));

  async function gatherRepository(input: Extract<QueueInput<HgpushPlan>, { kind: "read" }>, repo: Repository, watch: RepositoryWatch, signal?: AbortSignal) {
    const fromMessages = input.plan.pushesByRepository.get(repo.path) ?? [];
    let gapFailure: CheckFailure | undefined;
    const found = await findGapPushes(repo, watch, fromMessages, input.queueLost, deps, signal).catch((err: unknown) => {
      gapFailure = checkFailure("gap_search", "hgmo", err, { context: "looking for pushes that never arrived", signal });
      return [];
    });
    const pushes = pushesToWalk(watchAfterGapSearch(watch, found), fromMessages, Math.floor(deps.now() / 1000));
    const ports = { pushlog: deps.pushlog, mirror: mirrorOf(repo), now: deps.now, debug: (fields: object, msg: string) => deps.log.debug(fields, msg) };
    // With nothing to verify the check would otherwise vouch for a repository it never asked about.
    const verification: Verification =
      pushes.length > 0
        ? await verifyRepository(repo, watchAfterGapSearch(watch, found), pushes, ports, signal)
        : await ports.mirror.exists(signal).then(
            () => NOTHING_TO_VERIFY,
            (err: unknown) => ({ ...NOTHING_TO_VERIFY, failure: checkFailure("mirror", "phabricator", err, { signal }) }),
          );
    return { repo, found, gapFailure, verification };
  }

  return {
    name: "replication",
    queue: deps.queue,
    subjects,
    initial: new Map(deps.repositories.map((r) => [r.path, NEW_WATCH])),
    // Each mirror's repository (a Conduit lookup, once per process) is asked while the queue is read,
    // so the first range does not wait for it; the mirror remembers the answer, or asks again.
    prepare: (signal) => {
      for (const repo of deps.repositories)
        mirrorOf(repo)
          .exists(signal)
          .catch(() => undefined);
    },
    onDelivery: reader.onDelivery,
    plan: reader.plan,
    async gather(input, book, signal) {
      const started = deps.now();
      if (input.kind === "not_read") return { started, repositories: [] };
      return {
        started,
        repositories: await Promise.all(deps.repositories.map((repo) => gatherRepository(input, repo, book.get(repo.path) ?? NEW_WATCH, signal))),
      };
    },
    decide: (input, book, evidence, nowMs) => decide(input, book, evidence, nowMs, deps.repositories),
    conclude: (draft, settled, nowMs) => conclude(draft, settled, nowMs, deps.staleAfterMs),
  };
}

/** Per repository: what is settled (verified or given up), the acks and copies that follow, and the measurements. */
function decide(input: QueueInput<HgpushPlan>, book: ReplicationBook, evidence: Evidence, nowMs: number, configured: readonly Repository[]): Decision<Draft> {
  if (input.kind === "not_read") {
    const repositories = configured.map((repo) => ({
      repo,
      watch: book.get(repo.path) ?? NEW_WATCH,
      verification: undefined,
      failure: input.failure,
      receivedNew: false,
    }));
    return {
      ack: [],
      setAside: [],
      measurements: [],
      notes: [],
      draft: { started: evidence.started, messages: input.messages, queueFailure: input.failure, repositories },
    };
  }
  const { plan } = input;
  const settled = new Map<string, Set<number>>();
  const givenUp = new Map<string, GiveUpReason>();
  const measurements: Measurement[] = [];
  const notes: Note[] = [];
  const repositories = evidence.repositories.map(({ repo, found, gapFailure, verification }): RepositoryDraft => {
    const watch = watchAfterVerification(watchAfterGapSearch(book.get(repo.path) ?? NEW_WATCH, found), verification);
    const done = settledIds(verification);
    settled.set(repo.path, done);
    for (const { push, reason } of verification.givenUp) {
      givenUp.set(`${repo.path}#${push.pushId}`, reason);
      notes.push({ level: "warn", msg: GIVEN_UP[reason], fields: { repository: repo.path, pushId: push.pushId, reason } });
    }
    measurements.push(...measurementsOf(repo, found, verification, done, nowMs));
    const nulls = nullGitSettled(verification, done);
    if (nulls.changesets > 0) {
      const fields = { repository: repo.path, pushIds: nulls.pushIds.slice(0, 50), changesets: nulls.changesets };
      notes.push({ level: "warn", msg: "changesets without a Git hash in the pushlog (git_changesets null): not looked up in the Git mirror", fields });
    }
    if (found.length > 0) {
      const pushIds = found.map((p) => p.pushId).slice(0, 50);
      notes.push({
        level: "warn",
        msg: "found pushes in the pushlog that never arrived over Pulse",
        fields: { repository: repo.path, pushIds, count: found.length },
      });
    }
    const unusable = plan.unusable.get(repo.path);
    const failure = verification.failure ?? gapFailure ?? (unusable === undefined ? undefined : checkFailure("input", "pulse", new Error(unusable)));
    return { repo, watch, verification, failure, receivedNew: plan.receivedNew.has(repo.path) };
  });
  const ack: number[] = [];
  const setAside: Array<{ index: number; reason: string }> = [];
  for (const [index, carrier] of plan.carriers) {
    const done = settled.get(carrier.repository);
    if (!done || !carrier.pushIds.every((id) => done.has(id))) continue;
    ack.push(index);
    // A push given up holds its message no longer: the message is set aside with the reason.
    const reason = carrier.pushIds.map((id) => givenUp.get(`${carrier.repository}#${id}`)).find((r) => r !== undefined);
    if (reason !== undefined) setAside.push({ index, reason });
  }
  measurements.push({ metric: "phabmon_last_check_duration_seconds", set: (nowMs - evidence.started) / 1000 });
  return { ack, setAside, measurements, notes, draft: { started: evidence.started, messages: input.deliveries.length, queueFailure: undefined, repositories } };
}

/** Changesets without a Git hash in the pushes done with: counted once, when the push is done with (a push that waits is read again at every check). */
function nullGitSettled(verification: Verification, done: ReadonlySet<number>): { pushIds: number[]; changesets: number } {
  const settled = [...(verification.nullGit ?? new Map<number, number>())].filter(([id]) => done.has(id));
  return { pushIds: settled.map(([id]) => id), changesets: settled.reduce((sum, [, n]) => sum + n, 0) };
}

/** What the broker's taking the acks makes true: pushes verified and their delays, gap pushes, Git hashes not looked up. */
function measurementsOf(repo: Repository, found: readonly Push[], verification: Verification, done: ReadonlySet<number>, nowMs: number): Measurement[] {
  const labels = labelsOf(repo);
  const out: Measurement[] = [];
  if (verification.verified.length > 0) out.push({ metric: "phabmon_pushes_verified_total", labels, inc: verification.verified.length });
  for (const delay of replicationDelays(verification.verified, nowMs)) out.push({ metric: "phabmon_replication_delay_seconds", labels, observe: delay });
  if (found.length > 0) out.push({ metric: "phabmon_pushlog_gap_pushes_total", labels: { repository: repo.path }, inc: found.length });
  const nulls = nullGitSettled(verification, done);
  if (nulls.changesets > 0) out.push({ metric: "phabmon_git_null_changesets_total", labels: { repository: repo.path }, inc: nulls.changesets });
  return out;
}

/** After the settle: each repository's lag state moves, and the run's report and lines. */
function conclude(
  draft: Draft,
  settled: { acked: boolean; failure?: CheckFailure },
  nowMs: number,
  staleAfterMs: number,
): Conclusion<ReplicationBook, CheckReport> {
  const failures = new Map<string, CheckFailure>();
  const notes: Note[] = [];
  const book = new Map<string, RepositoryWatch>();
  if (draft.queueFailure && !(draft.queueFailure.cause instanceof SharedQueueError)) {
    notes.push({ level: "error", msg: "check failed: cannot read the queue", fields: { err: draft.queueFailure.cause } });
  }
  const repositories = draft.repositories.map(({ repo, watch, verification, failure: own, receivedNew }): RepositoryReport => {
    const failure = own ?? settled.failure;
    const done = verification === undefined ? undefined : settledIds(verification);
    const unverified = verification === undefined || done === undefined ? undefined : verification.pushes.filter((p) => !done.has(p.pushId));
    const after = watchAfterCheck(watch, {
      ok: failure === undefined,
      error: failure?.message,
      unverified,
      atMs: nowMs,
      missing: verification?.missing,
      receivedNew,
    });
    const lag = lagSeconds(after.state, nowMs, staleAfterMs);
    book.set(repo.path, watchAfterLag(after, lagPoint({ ok: failure === undefined, lagSeconds: lag }, nowMs), nowMs));
    if (failure !== undefined) failures.set(repo.path, failure);
    const stopped = verification?.stoppedAt;
    const report: RepositoryReport = {
      repository: repo.path,
      mirror: mirrorName(repo.mirror),
      ok: failure === undefined,
      lagSeconds: lag,
      pending: after.state.pendingPushes,
      verified: verification?.verified.length ?? 0,
      ...(failure === undefined ? {} : { error: failure.message, reason: failureReason(failure) }),
      ...(stopped ? { stoppedAt: { pushId: stopped.push.pushId, pushTime: stopped.push.pushTime, reason: stopped.reason } } : {}),
    };
    notes.push({ level: failure === undefined ? "info" : "error", msg: failure === undefined ? "check done" : "check failed", fields: { ...report } });
    return report;
  });
  const report: CheckReport = {
    ok: repositories.every((r) => r.ok),
    messages: draft.messages,
    durationMs: nowMs - draft.started,
    repositories,
    ...(draft.queueFailure === undefined ? {} : { error: draft.queueFailure.message }),
  };
  return { state: book, failures, report, notes };
}
