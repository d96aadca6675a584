// One check, end to end: take what waits on the queue, decode it, verify each repository's pushes in
// push order against the pushlog and the mirror, ack what is verified, hand back the rest, and
// update what the service believes about each repository. The decisions are the pure functions of
// src/core; this module only moves data between them and the edges.
import type { Repository } from "../config/config.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { mirrorName, type Mirror } from "../mirror/mirror.ts";
import type { Push } from "../hgpush/hgpush-message.ts";
import { pushIdRanges, walkPushes, walkStop, type PushCommits, type StopReason } from "./push-walk.ts";
import { lagSeconds, replicationDelays } from "../run/lag.ts";
import { timedPush } from "../core/push-time.ts";
import { humanSuffix } from "../core/duration.ts";
import { idsAfter, maxOf, missingPushIds } from "../hgpush/pushlog-gaps.ts";
import { listedForWalk } from "./mirror-commits.ts";
import {
  NEW_WATCH,
  pushesToWalk,
  readSlice,
  settledIds,
  walkNeedsMore,
  watchAfterCheck,
  watchAfterGapSearch,
  watchAfterVerification,
  type RepositoryWatch,
  type VerificationOutcome,
} from "./replication-state.ts";
import { CheckStoppedError, checkFailure, failureReason, type CheckFailure, type FailureReason } from "../run/check-failure.ts";
import type { ReplicationMetrics, ReplicationView } from "../app/metrics.ts";
import { givenUpKey, readQueue, settleQueueRead, type QueueCheckDeps, type QueueRead } from "../run/queue-read.ts";
import type { GiveUpReason } from "../hgpush/absent-pushes.ts";

/** Pushes per json-pushes request: 200 pushes of a few commits each is a response of tens of KB. */
export const PUSHLOG_SLICE = 200;
/** How far back the pushlog is read when the queue was lost before this process saw a push. */
const LOST_QUEUE_LOOKBACK_S = 24 * 3600;

export interface MonitorDeps extends QueueCheckDeps {
  pushlog: PushlogClient;
  repositories: readonly Repository[];
  /** Reads a queue's depth now and records it for the metrics. */
  queueDepth: (queue: string) => Promise<{ messages: number; consumers: number }>;
  /** Each repository's mirror, by path (src/mirror/mirror.ts). */
  mirrors: ReadonlyMap<string, Mirror>;
  metrics: ReplicationMetrics;
  /** Where each repository's state is published after each check, for the scrape-time lag. */
  publish: (states: ReplicationView) => void;
}

export interface RepositoryReport {
  repository: string;
  /** The mirror's name: the callsign, for the Phabricator kinds. */
  mirror: string;
  ok: boolean;
  /** Why the check of this repository failed (the printed line's words) and its `reason` label. */
  error?: string;
  reason?: FailureReason;
  lagSeconds: number;
  pending: number | undefined;
  verified: number;
  stoppedAt?: { pushId: number; pushTime: number; reason: StopReason };
}

export interface CheckReport {
  ok: boolean;
  error?: string;
  messages: number;
  durationMs: number;
  repositories: RepositoryReport[];
}

type Verification = VerificationOutcome & {
  stoppedAt?: { push: Push; reason: StopReason };
  /** Where the walk stopped for a commit the mirror lacks: the push, its first missing node and how many of its commits are missing. */
  missing?: { pushId: number; node: string; count: number };
  /** Per push id: changesets the pushlog gave no Git hash (repositories checked as Git). */
  nullGit?: ReadonlyMap<number, number>;
  failure?: CheckFailure;
};

/** The log line of a push set aside, by why. */
const GIVEN_UP: Record<GiveUpReason, string> = {
  stripped: "json-pushes does not list this push although its id is at or below lastpushid (stripped): set aside",
  not_replicated: "json-pushes still does not list this push after several checks: set aside",
  no_git_commit: "the pushlog names no Git commit for any changeset of this push, so a Git mirror cannot be asked about it: set aside",
  bad_time: "the pushlog gives this push a date no push can have: set aside as bad input",
};

const NOTHING_TO_VERIFY: Verification = { pushes: [], verified: [], givenUp: [], highestListed: undefined, waiting: [] };

/** What the replication check carries between checks: one value per repository (src/replication/replication-state.ts). */
export type ReplicationBook = ReadonlyMap<string, RepositoryWatch>;

export function createMonitor(deps: MonitorDeps) {
  let book: ReplicationBook = new Map(deps.repositories.map((r) => [r.path, NEW_WATCH]));
  const staleAfterMs = 3 * deps.checkIntervalMs;
  const monitored = new Set(deps.repositories.map((r) => r.path));
  const { metrics, log } = deps;
  const watchOf = (repository: string): RepositoryWatch => book.get(repository) ?? NEW_WATCH;
  const mirrorOf = (repo: Repository): Mirror => {
    const mirror = deps.mirrors.get(repo.path);
    if (mirror === undefined) throw new Error(`no mirror for ${repo.path}`);
    return mirror;
  };
  /** The contract's labels of the per-repository replication series. */
  const labelsOf = (repo: Repository) => ({ repository: repo.path, callsign: mirrorName(repo.mirror) });

  async function verifyRepository(
    repo: Repository,
    watch: RepositoryWatch,
    pushes: readonly Push[],
    identity: Promise<void>,
    signal?: AbortSignal,
  ): Promise<Verification> {
    const commits = new Map<number, PushCommits>();
    const mirrored = new Map<string, boolean>();
    const pushTimes = new Map<number, number>();
    const waiting: number[] = [];
    /** Per push id: changesets without a Git hash, for a repository checked as Git. */
    const nullGit = new Map<number, number>();
    const vcs = repo.mirror.vcs ?? "hg";
    let highestListed: number | undefined;
    let failure: CheckFailure | undefined;
    let step: "pushlog" | "mirror" = "pushlog";
    const ranges = pushIdRanges(
      pushes.map((p) => p.pushId),
      PUSHLOG_SLICE,
    );
    const fetchRange = (index: number) => {
      const range = ranges[index];
      if (!range) return undefined;
      const pending = deps.pushlog.fetchRange(repo.path, range, signal);
      // Read later, or never when the walk stops first; either way its failure is not unhandled.
      pending.catch(() => undefined);
      return pending;
    };
    let next = fetchRange(0);
    // The walk so far stopped here: the next range resumes it (walkStop).
    let resumeAt = 0;
    for (const [index, range] of ranges.entries()) {
      if (signal?.aborted) {
        failure = checkFailure("pushlog", "hgmo", new CheckStoppedError());
        break;
      }
      try {
        step = "pushlog";
        const fetched = await (next as ReturnType<PushlogClient["fetchRange"]>);
        // The next slice of the pushlog comes in while the mirror is asked about this one.
        next = fetchRange(index + 1);
        const slice = {
          lastPushId: fetched.lastPushId,
          pushes: new Map(
            [...fetched.pushes].map(([id, push]) => {
              const { listed, nullGit: nulls } = listedForWalk(push, vcs);
              if (nulls > 0) nullGit.set(id, nulls);
              return [id, listed] as const;
            }),
          ),
        };
        const reading = readSlice(watch, range, slice);
        for (const [id, c] of reading.commits) commits.set(id, c);
        for (const [id, t] of reading.pushTimes) pushTimes.set(id, t);
        waiting.push(...reading.waiting);
        if (reading.highestListed !== undefined) highestListed = Math.max(highestListed ?? 0, reading.highestListed);
        const unique = [...new Set([...reading.commits.values()].flatMap((c) => c.changesets ?? []))].filter((n) => !mirrored.has(n));
        step = "mirror";
        // The mirror's answer to "do you have this repository", asked while the queue was read.
        if (index === 0) await identity;
        const have = await mirrorOf(repo).has(unique, signal);
        for (const node of unique) mirrored.set(node, have.has(node));
        log.debug({ repository: repo.path, range, commits: unique.length, mirrored: have.size }, "checked a range of pushes");
        const stop = walkStop(
          pushes,
          (p) => commits.get(p.pushId),
          (n) => mirrored.get(n),
          resumeAt,
        );
        if (!walkNeedsMore(stop)) break;
        resumeAt = stop?.index ?? pushes.length;
      } catch (err) {
        failure = checkFailure(step, step === "mirror" ? "phabricator" : "hgmo", err, { signal });
        break;
      }
    }
    const nowS = Math.floor(deps.now() / 1000);
    const timed = pushes.map((p) => timedPush(p, pushTimes.get(p.pushId), nowS));
    const walk = walkPushes(
      timed,
      (p) => commits.get(p.pushId),
      (n) => mirrored.get(n),
    );
    const stopped = walk.stoppedAt;
    const missing =
      stopped?.reason.kind === "missing"
        ? {
            pushId: stopped.push.pushId,
            node: stopped.reason.node,
            count: (commits.get(stopped.push.pushId)?.changesets ?? []).filter((n) => mirrored.get(n) === false).length,
          }
        : undefined;
    return {
      pushes: timed,
      ...walk,
      nullGit,
      ...(missing === undefined ? {} : { missing }),
      highestListed,
      waiting,
      ...(failure === undefined ? {} : { failure }),
    };
  }

  /** Pushes the pushlog has that never came over Pulse: holes in the ids, and after a re-created queue, everything newer. */
  async function findGapPushes(repo: Repository, watch: RepositoryWatch, present: readonly Push[], queueLost: boolean, signal?: AbortSignal): Promise<Push[]> {
    let seen = watch.lastSeen;
    if (seen === undefined && queueLost) {
      // A queue lost before this process saw any push: what it held is only in the pushlog, and the
      // last day of it is read (pushes already mirrored verify at once).
      seen = (await deps.pushlog.firstPushIdSince(repo.path, deps.now() / 1000 - LOST_QUEUE_LOOKBACK_S, signal)) - 1;
      present = [];
    }
    if (seen === undefined) return [];
    const ids = new Set(
      missingPushIds(
        seen,
        present.map((p) => p.pushId),
      ),
    );
    if (queueLost) {
      const newest = maxOf(
        present.map((p) => p.pushId),
        seen,
      );
      for (const id of idsAfter(newest, await deps.pushlog.lastPushId(repo.path, signal))) ids.add(id);
    }
    const wanted = [...ids].filter((id) => !watch.held.has(id));
    const found: Push[] = [];
    for (const range of pushIdRanges(wanted, PUSHLOG_SLICE)) {
      for (const push of (await deps.pushlog.fetchRange(repo.path, range, signal)).pushes.values()) {
        if (ids.has(push.pushId))
          found.push({ repository: repo.path, pushId: push.pushId, pushTime: push.pushTime, user: push.user, seenAt: Math.floor(deps.now() / 1000) });
      }
    }
    if (found.length > 0) {
      deps.messageMetrics.pushlogGapPushes.inc({ repository: repo.path }, found.length);
      log.warn(
        { repository: repo.path, pushIds: found.map((p) => p.pushId).slice(0, 50), count: found.length },
        "found pushes in the pushlog that never arrived over Pulse",
      );
    }
    return found;
  }

  /** Each repository's pushes of this read, verified against the pushlog and its mirror. */
  async function verifyAll(read: QueueRead, identities: ReadonlyMap<string, Promise<void>>, signal?: AbortSignal) {
    const { plan, queueLost, unusable } = read;
    // Every repository was asked above.
    const identityOf = (repo: Repository) => identities.get(repo.path) as Promise<void>;
    return Promise.all(
      deps.repositories.map(async (repo) => {
        const fromMessages = plan.pushesByRepository.get(repo.path) ?? [];
        let watch = watchOf(repo.path);
        let gapFailure: CheckFailure | undefined;
        const found = await findGapPushes(repo, watch, fromMessages, queueLost, signal).catch((err: unknown) => {
          gapFailure = checkFailure("gap_search", "hgmo", err, { context: "looking for pushes that never arrived", signal });
          return [];
        });
        watch = watchAfterGapSearch(watch, found);
        const merged = pushesToWalk(watch, fromMessages, Math.floor(deps.now() / 1000));
        // With nothing to verify the check would otherwise vouch for a repository it never asked about.
        const verification: Verification =
          merged.length > 0
            ? await verifyRepository(repo, watch, merged, identityOf(repo), signal)
            : await identityOf(repo).then(
                () => NOTHING_TO_VERIFY,
                (err: unknown) => ({ ...NOTHING_TO_VERIFY, failure: checkFailure("mirror", "phabricator", err, { signal }) }),
              );
        watch = watchAfterVerification(watch, verification);
        for (const { push, reason } of verification.givenUp) log.warn({ repository: repo.path, pushId: push.pushId, reason }, GIVEN_UP[reason]);
        const evidence = unusable.get(repo.path);
        const failure = verification.failure ?? gapFailure ?? (evidence === undefined ? undefined : checkFailure("input", "pulse", new Error(evidence)));
        return { repo, watch, verification, failure };
      }),
    );
  }

  async function runCheck(signal?: AbortSignal): Promise<CheckReport> {
    const started = deps.now();
    // Asked while the queue is read: whether each mirror has its repository (for Conduit the
    // repository's PHID, once per process), which the first range would otherwise wait for, and with
    // it the first connection to the mirror. Its failure is the verification's (step "mirror").
    const identities = new Map(
      deps.repositories.map((repo) => {
        const asked = mirrorOf(repo).exists(signal);
        asked.catch(() => undefined);
        return [repo.path, asked] as const;
      }),
    );
    const read = await readQueue(deps, monitored, signal);
    if (read.kind !== "read") {
      if (read.kind === "failed") log.error({ err: read.failure.message }, "check failed: cannot read the queue");
      return finish(
        started,
        deps.repositories.map((repo) => ({
          repo,
          watch: watchOf(repo.path),
          failure: read.failure,
          unverified: undefined,
          verification: undefined,
          receivedNew: false,
        })),
        read.messages,
        read.failure,
      );
    }
    let verifications: Awaited<ReturnType<typeof verifyAll>>;
    let settled: Map<string, Set<number>>;
    let settlement: Awaited<ReturnType<typeof settleQueueRead>>;
    try {
      verifications = await verifyAll(read, identities, signal);
      // A push given up holds its message no longer: it is settled as if verified, and counted apart.
      settled = new Map(verifications.map(({ repo, verification }) => [repo.path, settledIds(verification)]));
      const givenUp = new Map(
        verifications.flatMap(({ repo, verification }) => verification.givenUp.map((g) => [givenUpKey(repo.path, g.push.pushId), g.reason] as const)),
      );
      settlement = await settleQueueRead(deps, read, { settled, givenUp });
    } catch (error) {
      // Whatever throws midway, what was read goes back to the queue, in order (a settled session ignores this).
      await read.session.abandon();
      throw error;
    }
    const settleFailure = settlement.failure;
    await deps.queueDepth(deps.queue).catch((err: unknown) => log.debug({ err: (err as Error).message }, "could not read the queue depth after the check"));
    const at = deps.now();
    const outcomes = verifications.map(({ repo, watch, verification, failure: repoFailure }) => {
      if (settlement.acked && verification.verified.length > 0) {
        metrics.pushesVerified.inc(labelsOf(repo), verification.verified.length);
        for (const delay of replicationDelays(verification.verified, at)) {
          metrics.replicationDelay.observe(labelsOf(repo), delay);
        }
      }
      const done = settled.get(repo.path) as Set<number>;
      const failure = repoFailure ?? settleFailure;
      if (settlement.acked) {
        // Counted once, when the push is done with: a push that waits is read again at every check.
        const nulls = [...(verification.nullGit ?? new Map<number, number>())].filter(([id]) => done.has(id));
        const total = nulls.reduce((sum, [, n]) => sum + n, 0);
        if (total > 0) {
          metrics.gitNullChangesets.inc({ repository: repo.path }, total);
          log.warn(
            { repository: repo.path, pushIds: nulls.map(([id]) => id).slice(0, 50), changesets: total },
            "changesets without a Git hash in the pushlog (git_changesets null): not looked up in the Git mirror",
          );
        }
      }
      return {
        repo,
        watch,
        failure,
        unverified: verification.pushes.filter((p) => !done.has(p.pushId)),
        verification,
        receivedNew: read.receivedNew.has(repo.path),
      };
    });
    return finish(started, outcomes, read.session.deliveries.length, settleFailure);
  }

  function finish(
    started: number,
    outcomes: Array<{
      repo: Repository;
      watch: RepositoryWatch;
      failure: CheckFailure | undefined;
      unverified: Push[] | undefined;
      verification: Verification | undefined;
      receivedNew: boolean;
    }>,
    messages: number,
    checkFailed: CheckFailure | undefined,
  ): CheckReport {
    const at = deps.now();
    const next = new Map(book);
    const repositories = outcomes.map(({ repo, watch, failure, unverified, verification, receivedNew }): RepositoryReport => {
      const ok = failure === undefined;
      const repoError = failure?.message;
      const after = watchAfterCheck(watch, { ok, error: repoError, unverified, atMs: at, missing: verification?.missing, receivedNew });
      next.set(repo.path, after);
      const { state } = after;
      metrics.checks.inc({ repository: repo.path });
      if (ok) metrics.lastCheckSuccess.set({ repository: repo.path }, at / 1000);
      else metrics.checkFailures.inc({ repository: repo.path, reason: failureReason(failure) });
      if (state.pendingPushes !== undefined) metrics.pendingPushes.set(labelsOf(repo), state.pendingPushes);
      const stopped = verification?.stoppedAt;
      const report: RepositoryReport = {
        repository: repo.path,
        mirror: mirrorName(repo.mirror),
        ok,
        lagSeconds: lagSeconds(state, at, staleAfterMs),
        pending: state.pendingPushes,
        verified: verification?.verified.length ?? 0,
        ...(failure === undefined ? {} : { error: failure.message, reason: failureReason(failure) }),
        ...(stopped ? { stoppedAt: { pushId: stopped.push.pushId, pushTime: stopped.push.pushTime, reason: stopped.reason } } : {}),
      };
      const level = ok ? "info" : "error";
      log[level](report, ok ? "check done" : "check failed");
      return report;
    });
    book = next;
    deps.publish(new Map([...book].map(([path, watch]) => [path, watch.state])));
    const durationMs = at - started;
    metrics.checkDuration.set(durationMs / 1000);
    return {
      ok: repositories.every((r) => r.ok),
      messages,
      durationMs,
      repositories,
      ...(checkFailed === undefined ? {} : { error: checkFailed.message }),
    };
  }

  /**
   * The report of a check that did not run to its end (stopped at its maximum run time and not
   * stopping, or skipped): every repository unknown for this run, with what is still known.
   */
  function reportWithoutRun(error: string): CheckReport {
    const at = deps.now();
    return {
      ok: false,
      error,
      messages: 0,
      durationMs: 0,
      repositories: deps.repositories.map((repo) => ({
        repository: repo.path,
        mirror: mirrorName(repo.mirror),
        ok: false,
        error,
        lagSeconds: lagSeconds(watchOf(repo.path).state, at, staleAfterMs),
        pending: watchOf(repo.path).state.pendingPushes,
        verified: 0,
      })),
    };
  }

  return {
    runCheck,
    reportWithoutRun,
    /** Per repository: whether its last successful check is recent enough for /__heartbeat__. */
    health(nowMs: number): Array<{ repository: string; lastSuccessAt: number | undefined; healthy: boolean; lastError: string | undefined }> {
      return deps.repositories.map(({ path }) => {
        const { state } = watchOf(path);
        const last = state.lastSuccessAt;
        return { repository: path, lastSuccessAt: last, healthy: last !== undefined && nowMs - last <= staleAfterMs, lastError: state.lastError };
      });
    },
  };
}

export type Monitor = ReturnType<typeof createMonitor>;

/** The contract's printed result line. */
export function formatReport(report: RepositoryReport): string {
  // The contract's whole number of seconds, then the same in a form a person reads at once.
  const lag = Number.isNaN(report.lagSeconds) ? "unknown" : `${Math.round(report.lagSeconds)}${humanSuffix(report.lagSeconds)}`;
  const pending = report.pending === undefined ? "" : ` (${report.pending} push${report.pending === 1 ? "" : "es"} pending)`;
  const failure = report.ok ? "" : ` [check failed: ${report.error ?? "unknown error"}]`;
  const stopped =
    report.stoppedAt && report.stoppedAt.reason.kind === "missing"
      ? ` [push ${report.stoppedAt.pushId} not mirrored: ${report.stoppedAt.reason.node.slice(0, 12)} missing]`
      : "";
  return `${report.repository} ${report.mirror} replication lag (seconds): ${lag}${pending}${stopped}${failure}`;
}
