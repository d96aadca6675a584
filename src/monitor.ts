// One check, end to end: take what waits on the queue, decode it, verify each repository's pushes in
// push order against the pushlog and the mirror, ack what is verified, hand back the rest, and
// update what the service believes about each repository. The decisions are the pure functions of
// src/core; this module only moves data between them and the edges.
import type { Logger } from "pino";
import type { Repository } from "./config.ts";
import type { Delivery, DrainOptions } from "./adapters/pulse.ts";
import type { PushlogClient } from "./adapters/pushlog.ts";
import type { MirrorChecker } from "./adapters/phabricator.ts";
import type { Metrics } from "./metrics.ts";
import { decodeHgpushMessage, type Push } from "./core/hgpush-message.ts";
import { planCheck, settleCheck } from "./core/check-plan.ts";
import { pushIdRanges, walkPushes, type PushCommits, type StopReason } from "./core/push-walk.ts";
import { INITIAL_STATE, lagSeconds, replicationDelays, stateAfterCheck, type RepositoryState } from "./core/lag.ts";
import { idsAfter, mergePushes, missingPushIds } from "./core/pushlog-gaps.ts";
import { unusableInput } from "./core/input-evidence.ts";
import { absenceAfterCheck, absentPushFate, type GiveUpReason } from "./core/absent-pushes.ts";
import { accountMessages, keepSetAside, type CopyAside } from "./message-accounting.ts";

/** Pushes per json-pushes request: 200 pushes of a few commits each is a response of tens of KB. */
export const PUSHLOG_SLICE = 200;
/** How far back the pushlog is read when the queue was lost before this process saw a push. */
const LOST_QUEUE_LOOKBACK_S = 24 * 3600;

export interface QueueSession {
  readonly deliveries: readonly Delivery[];
  readonly depthAtStart: { messages: number; consumers: number };
  readonly otherConsumers: number;
  /** The queue was declared again before this check, after it had been deleted. */
  readonly queueRecreated: boolean;
  /** The broker cancelled the consumer during this check: the queue, and the messages read, are gone. */
  readonly cancelled: boolean;
  settle(ack: readonly number[]): Promise<boolean>;
  abandon(): Promise<void>;
}

/** What a check that reads one of our queues needs, whichever check it is. */
export interface QueueCheckDeps {
  hgUrl: string;
  queue: string;
  checkIntervalMs: number;
  maxMessagesPerCheck: number;
  readOnly: boolean;
  drain: (options: DrainOptions) => Promise<QueueSession>;
  /** Records a depth read along the way. */
  recordDepth: (queue: string, depth: { messages: number; consumers: number }) => void;
  pushlog: PushlogClient;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  drainIdleMs?: number;
  /** Where set-aside messages are kept; absent (tests of the core), they are only counted and logged. */
  copyAside?: CopyAside;
}

export interface MonitorDeps extends QueueCheckDeps {
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
    let session: QueueSession;
    try {
      session = await deps.drain({ maxMessages: deps.maxMessagesPerCheck, idleMs: deps.drainIdleMs ?? 1000, signal });
    } catch (err) {
      const error = (err as Error).message;
      log.error({ err: error }, "check failed: cannot read the queue");
      return finish(started, deps.repositories.map((repo) => ({ repo, ok: false, error, unverified: undefined, verification: undefined })), 0, error);
    }
    deps.recordDepth(deps.queue, session.depthAtStart);
    if (session.otherConsumers > 0) {
      // Another instance (Heroku starts the new dyno before stopping the old one) holds part of the
      // queue. Verifying the rest could ack pushes queued behind one it holds, and an empty view would
      // read as lag 0: hand everything back and say the check could not be done.
      await session.abandon();
      const error = `another consumer is reading ${deps.queue} (${session.otherConsumers}); everything was handed back`;
      log.warn({ consumers: session.otherConsumers }, "check skipped: another consumer is reading the queue");
      return finish(started, deps.repositories.map((repo) => ({ repo, ok: false, error, unverified: undefined, verification: undefined })), session.deliveries.length, error);
    }

    const decoded = session.deliveries.map((d) =>
      decodeHgpushMessage({ body: d.body, contentType: d.contentType, routingKey: d.routingKey }, deps.hgUrl),
    );
    const plan = planCheck(decoded.map((message, index) => ({ index, decoded: message })), monitored);
    accountMessages(session.deliveries, decoded, plan, { monitored, metrics, log, atMs: started });
    const unusable = unusableInput(decoded.map((d, i) => ({ routingKey: session.deliveries[i]?.routingKey ?? "", decoded: d })), monitored, deps.hgUrl);

    const queueLost = session.queueRecreated || session.cancelled;
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
    const settledIds = new Map(
      verifications.map(({ repo, verification }) => [repo.path, new Set([...verification.verified, ...verification.givenUp.map((g) => g.push)].map((p) => p.pushId))]),
    );
    const settlement = settleCheck(plan, settledIds, session.deliveries.length);

    let settleError: string | undefined;
    if (deps.readOnly) {
      await session.abandon();
    } else {
      // Only what this check acks is copied: a message that goes back would be copied again.
      const acking = new Set(settlement.ack);
      const copies = setAsideCopies(plan, verifications, session.deliveries).filter((c) => acking.has(c.index));
      const ack = await keepSetAside(copies, settlement.ack, { copyAside: deps.copyAside, metrics, log, nowMs: deps.now() });
      const settled = await session.settle(ack);
      if (settled) {
        // The decoder's rejections were counted as they were read; a message given up is counted once it is gone.
        const acked = new Set(ack);
        for (const c of copies) if (c.givenUp && acked.has(c.index)) metrics.messagesRejected.inc({ reason: c.reason });
      }
      if (!settled && session.deliveries.length > 0) {
        settleError = "the broker did not take the acks; the messages stay queued";
      }
    }
    await deps.queueDepth(deps.queue).catch((err: unknown) => log.debug({ err: (err as Error).message }, "could not read the queue depth after the check"));
    const at = deps.now();
    const outcomes = verifications.map(({ repo, pushes, verification }) => {
      const acked = !deps.readOnly && settleError === undefined;
      if (acked && verification.verified.length > 0) {
        metrics.pushesVerified.inc({ repository: repo.path, callsign: repo.callsign }, verification.verified.length);
        for (const delay of replicationDelays(verification.verified, at)) {
          metrics.replicationDelay.observe({ repository: repo.path, callsign: repo.callsign }, delay);
        }
      }
      const done = new Set([...verification.verified, ...verification.givenUp.map((g) => g.push)].map((p) => p.pushId));
      const error = verification.error ?? settleError;
      return { repo, ok: error === undefined, error, unverified: pushes.filter((p) => !done.has(p.pushId)), verification };
    });
    return finish(started, outcomes, session.deliveries.length, settleError);
  }

  /** The messages this check sets aside, with their reasons: rejected ones, and carriers of given-up pushes. */
  function setAsideCopies(
    plan: ReturnType<typeof planCheck>,
    verifications: ReadonlyArray<{ repo: Repository; verification: Verification }>,
    deliveries: readonly Delivery[],
  ): Array<{ index: number; delivery: Delivery; reason: string; givenUp: boolean }> {
    const copies: Array<{ index: number; delivery: Delivery; reason: string; givenUp: boolean }> = [];
    for (const aside of plan.setAside) {
      if (aside.outcome === "rejected") copies.push({ index: aside.index, delivery: deliveries[aside.index] as Delivery, reason: aside.reason, givenUp: false });
    }
    const reasonOf = new Map(verifications.flatMap(({ repo, verification }) => verification.givenUp.map((g) => [`${repo.path}#${g.push.pushId}`, g.reason] as const)));
    for (const [index, carrier] of plan.carriers) {
      const reason = carrier.pushIds.map((id) => reasonOf.get(`${carrier.repository}#${id}`)).find((r) => r !== undefined);
      if (reason !== undefined) copies.push({ index, delivery: deliveries[index] as Delivery, reason, givenUp: true });
    }
    return copies;
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
