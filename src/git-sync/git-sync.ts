// The Git → hg sync check: take Lando's push messages off `queue/<user>/<name>/git`, find each watched
// branch's new head in the hg pushlog (read forward by push id), ask the Git mirror for it where the
// repository is checked as Git, ack a message only once every Git push it carries is decided, and
// publish each branch's state for the scrape-time lag. Decisions are src/git-sync/branch-sync.ts's.
import type { Logger } from "pino";
import type { Delivery, DrainOptions, SetAsideCopy } from "../pulse/pulse.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import type { GitSyncConfig } from "../config/config.ts";
import type { Mirror } from "../mirror/mirror.ts";
import { decodeLandoMessage, type GitPush, type LandoMessage } from "./lando-message.ts";
import {
  NEW_BRANCH,
  branchAfterCheck,
  branchAfterMessages,
  branchAfterMirror,
  branchAfterPushlog,
  decided,
  hgRangeToRead,
  type BranchSync,
  type HgPushRead,
} from "./branch-sync.ts";
import { lagSeconds } from "../run/lag.ts";
import { pushIdRanges } from "../replication/push-walk.ts";
import { isUnixTime } from "../core/push-time.ts";
import type { QueueSession } from "../run/queue-read.ts";
import { keepSetAside, type CopyAside } from "../run/message-accounting.ts";
import type { MessageMetrics, SyncMetrics } from "../app/metrics.ts";

/** hg pushes per json-pushes request, as the replication check reads them. */
const SLICE = 200;

export interface GitSyncDeps {
  config: GitSyncConfig;
  drain: (options: DrainOptions) => Promise<QueueSession>;
  copyAside?: CopyAside;
  pushlog: PushlogClient;
  /** The Git mirror of each repository checked as Git (REPOSITORIES `…=<CALLSIGN>:git`), by hg path. */
  gitMirrors: ReadonlyMap<string, Mirror>;
  maxMessagesPerCheck: number;
  readOnly: boolean;
  checkIntervalMs: number;
  drainIdleMs?: number;
  recordDepth: (queue: string, depth: { messages: number; consumers: number }) => void;
  messageMetrics: MessageMetrics;
  metrics: SyncMetrics;
  publish: (view: SyncView) => void;
  log: Logger;
  now: () => number;
}

/** What the sync check publishes: each branch's state, by branch. */
export type SyncView = ReadonlyMap<string, BranchSync>;

export interface SyncReport {
  ok: boolean;
  error?: string;
  messages: number;
  branches: Array<{ branch: string; repository: string; ok: boolean; error?: string; pending: number; synced: number; lagSeconds: number }>;
}

export function createGitSync(deps: GitSyncDeps) {
  const { config, metrics, log } = deps;
  let book: ReadonlyMap<string, BranchSync> = new Map(config.branches.map((b) => [b.branch, NEW_BRANCH]));
  const watched = new Set(config.branches.map((b) => b.branch));
  const staleAfterMs = 3 * deps.checkIntervalMs;

  function finish(
    errors: ReadonlyMap<string, string>,
    read: boolean,
    messages: number,
    general?: string,
    synced: ReadonlyMap<string, number> = new Map(),
  ): SyncReport {
    const at = deps.now();
    const next = new Map(book);
    const branches = config.branches.map(({ branch, repository }) => {
      const error = general ?? errors.get(branch);
      const after = branchAfterCheck(next.get(branch) ?? NEW_BRANCH, {
        ok: error === undefined,
        ...(error === undefined ? {} : { error }),
        read,
        atMs: at,
        repository,
      });
      next.set(branch, after);
      metrics.syncPending.set({ branch, repository }, after.pending.size);
      return {
        branch,
        repository,
        ok: error === undefined,
        ...(error === undefined ? {} : { error }),
        pending: after.pending.size,
        synced: synced.get(branch) ?? 0,
        lagSeconds: lagSeconds(after.state, at, staleAfterMs),
      };
    });
    book = next;
    metrics.syncChecks.inc();
    const ok = branches.every((b) => b.ok);
    if (ok) metrics.lastSyncCheckSuccess.set(at / 1000);
    else metrics.syncCheckFailures.inc();
    deps.publish(book);
    const report = { ok, messages, branches, ...(general === undefined ? {} : { error: general }) };
    log[ok ? "info" : "error"](report, ok ? "git sync check done" : "git sync check failed");
    return report;
  }

  async function runCheck(signal?: AbortSignal): Promise<SyncReport> {
    let session: QueueSession;
    try {
      session = await deps.drain({ queue: config.queue, maxMessages: deps.maxMessagesPerCheck, idleMs: deps.drainIdleMs ?? 1000, signal });
    } catch (error) {
      return finish(new Map(), false, 0, `cannot read ${config.queue}: ${(error as Error).message}`);
    }
    deps.recordDepth(config.queue, session.depthAtStart);
    if (session.otherConsumers > 0) {
      // As the replication check does (src/run/queue-read.ts): a partial view could ack what another holds.
      await session.abandon();
      return finish(
        new Map(),
        false,
        session.deliveries.length,
        `another consumer is reading ${config.queue} (${session.otherConsumers}); everything was handed back`,
      );
    }
    const decoded: LandoMessage[] = session.deliveries.map((d) => decodeLandoMessage(d.body, { repoUrl: config.repoUrl, branches: watched }));
    const aside: Array<SetAsideCopy & { index: number }> = [];
    const carried = new Map<number, Array<{ branch: string; pushId: number }>>();
    const byBranch = new Map<string, GitPush[]>();
    decoded.forEach((message, index) => {
      const delivery = session.deliveries[index] as Delivery;
      if (message.kind === "rejected") {
        if (!delivery.redelivered) deps.messageMetrics.messagesRejected.inc({ reason: message.reason });
        log.warn({ reason: message.reason, detail: message.detail, routingKey: delivery.routingKey.slice(0, 200) }, "set aside a malformed Lando message");
        aside.push({ index, delivery, reason: message.reason });
      } else if (message.kind === "skipped") {
        deps.messageMetrics.messagesSkipped.inc({ reason: message.reason });
      } else {
        carried.set(
          index,
          message.pushes.map((p) => ({ branch: p.branch, pushId: p.pushId })),
        );
        for (const push of message.pushes) byBranch.set(push.branch, [...(byBranch.get(push.branch) ?? []), push]);
      }
    });

    const errors = new Map<string, string>();
    const syncedCount = new Map<string, number>();
    // Measures are taken once the messages they come from are acked, as the replication check does: a
    // message handed back (read-only, or the broker did not take the ack) comes again and is measured then.
    const measures: Array<() => void> = [];
    const queueLost = session.queueRecreated || session.cancelled;
    for (const { branch, repository } of config.branches) {
      const mirror = deps.gitMirrors.get(repository);
      const arrivedPushes = byBranch.get(branch) ?? [];
      const { branch: withMessages, arrived } = branchAfterMessages(book.get(branch) ?? NEW_BRANCH, arrivedPushes, { mirrored: mirror !== undefined });
      let state = withMessages;
      try {
        const lastPushId = await deps.pushlog.lastPushId(repository, signal);
        const range = hgRangeToRead(state, arrived, lastPushId);
        const hgPushes: HgPushRead[] = [];
        if (range !== undefined) {
          const ids = Array.from({ length: range.endId - range.startId }, (_, i) => range.startId + 1 + i);
          for (const slice of pushIdRanges(ids, SLICE)) {
            for (const push of (await deps.pushlog.fetchRange(repository, slice, signal)).pushes.values()) {
              // An hg push with a date no push can have settles nothing: its delay would be made up (push-time.ts).
              if (isUnixTime(push.pushTime)) hgPushes.push({ pushId: push.pushId, pushTime: push.pushTime, gitChangesets: push.gitChangesets ?? [] });
              else log.warn({ repository, pushId: push.pushId, date: push.pushTime }, "an hg push with an impossible date: not read");
            }
          }
        }
        // With nothing pending nothing is read, and the next read starts from the pushlog's end.
        const result = branchAfterPushlog(state, hgPushes, range?.endId ?? lastPushId);
        state = result.branch;
        syncedCount.set(branch, result.synced.length);
        for (const { push, hgPushId, delaySeconds } of result.synced) {
          if (delaySeconds !== undefined) measures.push(() => metrics.syncDelay.observe({ branch, repository }, delaySeconds));
          log.info(
            { branch, repository, gitPushId: push.pushId, head: push.head, hgPushId: hgPushId ?? null, delaySeconds: delaySeconds ?? null },
            "git push synced to hg",
          );
        }
        if (mirror !== undefined && state.unmirrored.size > 0) {
          const heads = [...state.unmirrored.values()].map((p) => p.head);
          const has = await mirror.has(heads, signal);
          const seen = branchAfterMirror(state, has, deps.now());
          state = seen.branch;
          for (const { push, seconds } of seen.mirrored) {
            measures.push(() => metrics.landingToMirror.observe({ repository, callsign: mirror.name }, seconds));
            log.info({ branch, repository, callsign: mirror.name, gitPushId: push.pushId, head: push.head, seconds }, "git push head found in the Git mirror");
          }
        }
      } catch (error) {
        errors.set(branch, `${repository}: ${(error as Error).message}`);
      }
      if (queueLost && !errors.has(branch)) errors.set(branch, `${config.queue} was deleted since the last check: Git pushes announced meanwhile may be lost`);
      book = new Map(book).set(branch, state);
    }

    // A message is acked once every Git push it carries is decided; set-aside ones once they are kept.
    const ack: number[] = [];
    decoded.forEach((message, index) => {
      if (message.kind === "skipped") ack.push(index);
      if (message.kind === "pushes" && (carried.get(index) ?? []).every(({ branch, pushId }) => decided(book.get(branch) ?? NEW_BRANCH, pushId)))
        ack.push(index);
    });
    if (deps.readOnly) {
      // Read-only (--no-send): nothing is copied, nothing acked; every message goes back in order.
      await session.abandon();
    } else {
      const toAck = await keepSetAside(aside, [...ack, ...aside.map((c) => c.index)], {
        copyAside: deps.copyAside,
        metrics: deps.messageMetrics,
        log,
        nowMs: deps.now(),
      });
      if (await session.settle(toAck)) {
        for (const measure of measures) measure();
      } else if (session.deliveries.length > 0) {
        for (const { branch } of config.branches) if (!errors.has(branch)) errors.set(branch, "the broker did not take the acks; the messages stay queued");
      }
    }
    return finish(errors, true, session.deliveries.length, undefined, syncedCount);
  }

  return {
    runCheck,
    /** Per branch: whether its last successful check is recent enough, for /__heartbeat__. */
    health(nowMs: number) {
      return config.branches.map(({ branch, repository }) => {
        const state = (book.get(branch) ?? NEW_BRANCH).state;
        const last = state.lastSuccessAt;
        return { branch, repository, healthy: last !== undefined && nowMs - last <= staleAfterMs, lastError: state.lastError };
      });
    },
  };
}

export type GitSync = ReturnType<typeof createGitSync>;
