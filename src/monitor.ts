// One check, end to end: take what waits on the queue, decode it, verify each repository's pushes in
// push order against the pushlog and the mirror, ack what is verified, hand back the rest, and
// update what the service believes about each repository. The decisions are the pure functions of
// src/core; this module only moves data between them and the edges.
import type { Repository } from "./config.ts";
import type { PushlogClient } from "./adapters/pushlog.ts";
import type { MirrorChecker } from "./adapters/phabricator.ts";
import type { Push } from "./core/hgpush-message.ts";
import { pushIdRanges, walkPushes, type PushCommits, type StopReason } from "./core/push-walk.ts";
import { INITIAL_STATE, lagSeconds, replicationDelays, stateAfterCheck, type RepositoryState } from "./core/lag.ts";
import { idsAfter, mergePushes, missingPushIds } from "./core/pushlog-gaps.ts";
import { absenceAfterCheck, absentPushFate, type GiveUpReason } from "./core/absent-pushes.ts";
import { givenUpKey, readQueue, settleQueueRead, type QueueCheckDeps } from "./queue-read.ts";

/** Pushes per json-pushes request: 200 pushes of a few commits each is a response of tens of KB. */
export const PUSHLOG_SLICE = 200;
/** How far back the pushlog is read when the queue was lost before this process saw a push. */
const LOST_QUEUE_LOOKBACK_S = 24 * 3600;

export interface MonitorDeps extends QueueCheckDeps {
  pushlog: PushlogClient;
  repositories: readonly Repository[];
  /** Reads a queue's depth now and records it for the metrics. */
  queueDepth: (queue: string) => Promise<{ messages: number; consumers: number }>;
  mirror: MirrorChecker;
}

export interface RepositoryReport {
  repository: string;
  callsign: string;
  ok: boolean;
  error?: string;
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

interface Verification {
  /** The pushes walked, each with its push time from the pushlog where the pushlog listed it. */
  pushes: Push[];
  verified: Push[];
  /** Pushes the pushlog will never list (stripped, or never replicated): set aside, not waited for. */
  givenUp: Array<{ push: Push; reason: GiveUpReason }>;
  /** The highest push id the pushlog listed: only such an id may move the start of gap searches. */
  highestListed: number | undefined;
  /** Push ids absent from the pushlog and still waited for. */
  waiting: number[];
  stoppedAt?: { push: Push; reason: StopReason };
  error?: string;
}

export function createMonitor(deps: MonitorDeps) {
  const states = new Map<string, RepositoryState>(deps.repositories.map((r) => [r.path, INITIAL_STATE]));
  /** The highest push id seen per repository, from messages or the pushlog; the start of gap searches. */
  const lastSeen = new Map<string, number>();
  /**
   * Every push read (from a message or the pushlog) and not verified yet, kept until verified or
   * given up, so that a queue deleted between checks loses nothing this process has seen. A restart
   * forgets them; their messages, or the pushlog read after a lost queue, bring them back.
   */
  const held = new Map<string, Map<number, Push>>(deps.repositories.map((r) => [r.path, new Map()]));
  /** Per repository: push ids json-pushes did not list yet, and in how many checks in a row. */
  const absences = new Map<string, ReadonlyMap<number, number>>();
  const staleAfterMs = 3 * deps.checkIntervalMs;
  const monitored = new Set(deps.repositories.map((r) => r.path));
  const { metrics, log } = deps;

  function lagOf(repository: string, nowMs: number, connected = true): number {
    return lagSeconds(states.get(repository) ?? INITIAL_STATE, nowMs, staleAfterMs, connected);
  }

  async function verifyRepository(repo: Repository, pushes: readonly Push[], signal?: AbortSignal): Promise<Verification> {
    const commits = new Map<number, PushCommits>();
    const mirrored = new Map<string, boolean>();
    /** The pushlog's `date` of each push it listed: the push time (a message's `time` was ×10 in 2016–2018). */
    const dates = new Map<number, number>();
    const waiting: number[] = [];
    const absent = absences.get(repo.path) ?? new Map<number, number>();
    let highestListed: number | undefined;
    let error: string | undefined;
    const ranges = pushIdRanges(pushes.map((p) => p.pushId), PUSHLOG_SLICE);
    const fetchRange = (index: number) => {
      const range = ranges[index];
      if (!range) return undefined;
      const pending = deps.pushlog.fetchRange(repo.path, range, signal);
      // Read later, or never when the walk stops first; either way its failure is not unhandled.
      pending.catch(() => undefined);
      return pending;
    };
    let next = fetchRange(0);
    for (const [index, range] of ranges.entries()) {
      if (signal?.aborted) {
        error = "check stopped";
        break;
      }
      try {
        const slice = await (next as ReturnType<PushlogClient["fetchRange"]>);
        // The next slice of the pushlog comes in while the mirror is asked about this one.
        next = fetchRange(index + 1);
        const nodes: string[] = [];
        let complete = true;
        for (let id = range.startId + 1; id <= range.endId; id++) {
          const listed = slice.pushes.get(id);
          if (listed) {
            commits.set(id, { changesets: listed.changesets });
            dates.set(id, listed.date);
            highestListed = Math.max(highestListed ?? 0, id);
            for (const node of listed.changesets) if (!mirrored.has(node)) nodes.push(node);
            continue;
          }
          const fate = absentPushFate(id, slice.lastPushId, (absent.get(id) ?? 0) + 1);
          if (fate.wait) {
            waiting.push(id);
            commits.set(id, { changesets: undefined });
            complete = false;
          } else {
            commits.set(id, { changesets: undefined, givenUp: fate.reason });
          }
        }
        const unique = [...new Set(nodes)];
        const have = await deps.mirror.mirrored(repo.callsign, unique, signal);
        for (const node of unique) mirrored.set(node, have.has(node));
        log.debug({ repository: repo.path, range, commits: unique.length, mirrored: have.size }, "checked a range of pushes");
        // Past a push that is not mirrored nothing can be acked, so there is no need to ask further.
        if (!complete || have.size < unique.length) break;
      } catch (err) {
        error = signal?.aborted ? "check stopped" : (err as Error).message;
        break;
      }
    }
    const timed = pushes.map((p) => {
      const date = dates.get(p.pushId);
      return date === undefined ? p : { ...p, pushTime: date };
    });
    const walk = walkPushes(timed, (p) => commits.get(p.pushId), (n) => mirrored.get(n));
    return { pushes: timed, ...walk, highestListed, waiting, ...(error === undefined ? {} : { error }) };
  }

  /** Pushes the pushlog has that never came over Pulse: holes in the ids, and after a re-created queue, everything newer. */
  async function findGapPushes(repo: Repository, present: readonly Push[], queueLost: boolean, signal?: AbortSignal): Promise<Push[]> {
    let seen = lastSeen.get(repo.path);
    if (seen === undefined && queueLost) {
      // A queue lost before this process saw any push: what it held is only in the pushlog, and the
      // last day of it is read (pushes already mirrored verify at once).
      seen = (await deps.pushlog.firstPushIdSince(repo.path, deps.now() / 1000 - LOST_QUEUE_LOOKBACK_S, signal)) - 1;
      present = [];
    }
    if (seen === undefined) return [];
    const ids = new Set(missingPushIds(seen, present.map((p) => p.pushId)));
    if (queueLost) {
      const newest = Math.max(seen, ...present.map((p) => p.pushId));
      for (const id of idsAfter(newest, await deps.pushlog.lastPushId(repo.path, signal))) ids.add(id);
    }
    const kept = held.get(repo.path) as Map<number, Push>;
    const wanted = [...ids].filter((id) => !kept.has(id));
    const found: Push[] = [];
    for (const range of pushIdRanges(wanted, PUSHLOG_SLICE)) {
      for (const push of (await deps.pushlog.fetchRange(repo.path, range, signal)).pushes.values()) {
        if (ids.has(push.pushId)) found.push({ repository: repo.path, pushId: push.pushId, pushTime: push.date, user: push.user });
      }
    }
    if (found.length > 0) {
      metrics.pushlogGapPushes.inc({ repository: repo.path }, found.length);
      log.warn({ repository: repo.path, pushIds: found.map((p) => p.pushId).slice(0, 50), count: found.length }, "found pushes in the pushlog that never arrived over Pulse");
      for (const push of found) kept.set(push.pushId, push);
    }
    return found;
  }

  async function runCheck(signal?: AbortSignal): Promise<CheckReport> {
    const started = deps.now();
    const read = await readQueue(deps, monitored, signal);
    if (read.kind !== "read") {
      if (read.kind === "failed") log.error({ err: read.error }, "check failed: cannot read the queue");
      return finish(started, deps.repositories.map((repo) => ({ repo, ok: false, error: read.error, unverified: undefined, verification: undefined })), read.messages, read.error);
    }
    const { plan, queueLost, unusable } = read;
    const verifications = await Promise.all(
      deps.repositories.map(async (repo) => {
        const fromMessages = plan.pushesByRepository.get(repo.path) ?? [];
        let gapError: string | undefined;
        await findGapPushes(repo, fromMessages, queueLost, signal).catch((err: unknown) => {
          gapError = `looking for pushes that never arrived: ${(err as Error).message}`;
        });
        const kept = held.get(repo.path) as Map<number, Push>;
        const merged = mergePushes(fromMessages, kept.values());
        // With nothing to verify the check would otherwise vouch for a repository it never asked about.
        const verification: Verification =
          merged.length > 0
            ? await verifyRepository(repo, merged, signal)
            : await deps.mirror.repositoryExists(repo.callsign, signal).then(
                () => ({ pushes: [], verified: [], givenUp: [], highestListed: undefined, waiting: [] }),
                (err: unknown) => ({ pushes: [], verified: [], givenUp: [], highestListed: undefined, waiting: [], error: (err as Error).message }),
              );
        const pushes = verification.pushes;
        for (const push of verification.verified) kept.delete(push.pushId);
        for (const { push } of verification.givenUp) kept.delete(push.pushId);
        // Every push read and not verified is remembered, whatever happens to its message: should the
        // queue be deleted (PulseGuardian, at 8,000 messages, exactly when the mirror is stuck) before
        // the next check, this process still knows what holds the lag.
        const done = new Set([...verification.verified, ...verification.givenUp.map((g) => g.push)].map((p) => p.pushId));
        for (const push of pushes) if (!done.has(push.pushId)) kept.set(push.pushId, push);
        absences.set(repo.path, absenceAfterCheck(absences.get(repo.path) ?? new Map(), verification.waiting));
        for (const { push, reason } of verification.givenUp) {
          log.warn(
            { repository: repo.path, pushId: push.pushId, reason },
            reason === "stripped"
              ? "json-pushes does not list this push although its id is at or below lastpushid (stripped): set aside"
              : "json-pushes still does not list this push after several checks: set aside",
          );
        }
        // Only a push id the pushlog listed moves the start of the next gap search: a stray id would
        // otherwise hide every real push below it.
        const newest = Math.max(lastSeen.get(repo.path) ?? 0, verification.highestListed ?? 0);
        if (newest > 0) lastSeen.set(repo.path, newest);
        if (gapError !== undefined && verification.error === undefined) verification.error = gapError;
        const evidence = unusable.get(repo.path);
        if (evidence !== undefined && verification.error === undefined) verification.error = evidence;
        return { repo, pushes, verification };
      }),
    );
    // A push given up holds its message no longer: it is settled as if verified, and counted apart.
    const settled = new Map(
      verifications.map(({ repo, verification }) => [repo.path, new Set([...verification.verified, ...verification.givenUp.map((g) => g.push)].map((p) => p.pushId))]),
    );
    const givenUp = new Map(verifications.flatMap(({ repo, verification }) => verification.givenUp.map((g) => [givenUpKey(repo.path, g.push.pushId), g.reason] as const)));
    const settlement = await settleQueueRead(deps, read, { settled, givenUp });
    const settleError = settlement.error;
    await deps.queueDepth(deps.queue).catch((err: unknown) => log.debug({ err: (err as Error).message }, "could not read the queue depth after the check"));
    const at = deps.now();
    const outcomes = verifications.map(({ repo, pushes, verification }) => {
      if (settlement.acked && verification.verified.length > 0) {
        metrics.pushesVerified.inc({ repository: repo.path, callsign: repo.callsign }, verification.verified.length);
        for (const delay of replicationDelays(verification.verified, at)) {
          metrics.replicationDelay.observe({ repository: repo.path, callsign: repo.callsign }, delay);
        }
      }
      const done = settled.get(repo.path) as Set<number>;
      const error = verification.error ?? settleError;
      return { repo, ok: error === undefined, error, unverified: pushes.filter((p) => !done.has(p.pushId)), verification };
    });
    return finish(started, outcomes, read.session.deliveries.length, settleError);
  }

  function finish(
    started: number,
    outcomes: Array<{ repo: Repository; ok: boolean; error: string | undefined; unverified: Push[] | undefined; verification: Verification | undefined }>,
    messages: number,
    error: string | undefined,
  ): CheckReport {
    const at = deps.now();
    const repositories = outcomes.map(({ repo, ok, error: repoError, unverified, verification }): RepositoryReport => {
      const state = stateAfterCheck(states.get(repo.path) ?? INITIAL_STATE, { ok, error: repoError, unverified, atMs: at });
      states.set(repo.path, state);
      metrics.checks.inc({ repository: repo.path });
      if (ok) metrics.lastCheckSuccess.set({ repository: repo.path }, at / 1000);
      else metrics.checkFailures.inc({ repository: repo.path });
      if (state.pendingPushes !== undefined) metrics.pendingPushes.set({ repository: repo.path, callsign: repo.callsign }, state.pendingPushes);
      const stopped = verification?.stoppedAt;
      const report: RepositoryReport = {
        repository: repo.path,
        callsign: repo.callsign,
        ok,
        lagSeconds: lagOf(repo.path, at),
        pending: state.pendingPushes,
        verified: verification?.verified.length ?? 0,
        ...(repoError === undefined ? {} : { error: repoError }),
        ...(stopped ? { stoppedAt: { pushId: stopped.push.pushId, pushTime: stopped.push.pushTime, reason: stopped.reason } } : {}),
      };
      const level = ok ? "info" : "error";
      log[level](report, ok ? "check done" : "check failed");
      return report;
    });
    const durationMs = at - started;
    metrics.checkDuration.set(durationMs / 1000);
    return {
      ok: repositories.every((r) => r.ok),
      messages,
      durationMs,
      repositories,
      ...(error === undefined ? {} : { error }),
    };
  }

  return {
    runCheck,
    lagSeconds: lagOf,
    /** Per repository: whether its last successful check is recent enough for /__heartbeat__. */
    health(nowMs: number): Array<{ repository: string; lastSuccessAt: number | undefined; healthy: boolean; lastError: string | undefined }> {
      return deps.repositories.map(({ path }) => {
        const state = states.get(path);
        const last = state?.lastSuccessAt;
        return { repository: path, lastSuccessAt: last, healthy: last !== undefined && nowMs - last <= staleAfterMs, lastError: state?.lastError };
      });
    },
  };
}

export type Monitor = ReturnType<typeof createMonitor>;

/** The contract's printed result line. */
export function formatReport(report: RepositoryReport): string {
  const lag = Number.isNaN(report.lagSeconds) ? "unknown" : String(Math.round(report.lagSeconds));
  const pending = report.pending === undefined ? "" : ` (${report.pending} push${report.pending === 1 ? "" : "es"} pending)`;
  const failure = report.ok ? "" : ` [check failed: ${report.error ?? "unknown error"}]`;
  const stopped =
    report.stoppedAt && report.stoppedAt.reason.kind === "missing"
      ? ` [push ${report.stoppedAt.pushId} not mirrored: ${report.stoppedAt.reason.node.slice(0, 12)} missing]`
      : "";
  return `${report.repository} ${report.callsign} replication lag (seconds): ${lag}${pending}${stopped}${failure}`;
}
