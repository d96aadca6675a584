// The Git → hg sync check on the one contract (src/run/check.ts): Lando's push messages name each Git
// branch's new head; gather reads the branch's hg pushlog forward by push id and asks the Git mirror
// for the heads, where the repository is checked as Git; decide and conclude (pure, over
// branch-sync.ts) find each head's hg push, measure, and ack a message once every Git push it carries
// is decided.
import type { Logger } from "pino";
import type { Delivery } from "../pulse/pulse.ts";
import type { GitSyncConfig } from "../config/config.ts";
import type { Mirror } from "../mirror/mirror.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import { isUnixTime } from "../core/push-time.ts";
import { checkFailure, type CheckFailure } from "../run/check-failure.ts";
import type { Conclusion, Measurement, Note, QueueCheck, QueueInput, ReadPlan, Settled } from "../run/check.ts";
import { lagSeconds } from "../run/lag.ts";
import { lagPoint } from "../run/lag-history.ts";
import { pushIdRanges } from "../pushlog/push-id-ranges.ts";
import {
  NEW_BRANCH,
  branchAfterCheck,
  branchAfterLag,
  branchAfterMessages,
  branchAfterMirror,
  branchAfterPushlog,
  decided,
  hgRangeToRead,
  type BranchSync,
  type HgPushRead,
} from "./branch-sync.ts";
import { decodeLandoMessage, type GitPush } from "./lando-message.ts";
import type { SyncReport } from "./report.ts";

/** hg pushes per json-pushes request, as the replication check reads them. */
const SLICE = 200;

export type SyncBook = ReadonlyMap<string, BranchSync>;

export interface GitSyncDeps {
  config: GitSyncConfig;
  pushlog: PushlogClient;
  /** The Git mirror of each repository checked as Git (REPOSITORIES `…=<CALLSIGN>:git`), by hg path. */
  gitMirrors: ReadonlyMap<string, Mirror>;
  staleAfterMs: number;
  log: Logger;
  now: () => number;
}

interface LandoPlan {
  byBranch: ReadonlyMap<string, GitPush[]>;
  /** Each message carrying pushes: the Git pushes it carries. */
  carried: ReadonlyMap<number, Array<{ branch: string; pushId: number }>>;
}

interface BranchEvidence {
  hgPushes: HgPushRead[];
  readUpTo: number | undefined;
  /** The heads the Git mirror has, when one is checked and was asked. */
  mirrorHas: ReadonlySet<string> | undefined;
  failure: CheckFailure | undefined;
  impossible: Array<{ pushId: number; date: number }>;
}

interface Draft {
  book: SyncBook;
  failures: ReadonlyMap<string, CheckFailure>;
  read: boolean;
  messages: number;
  synced: ReadonlyMap<string, number>;
  queueFailure: CheckFailure | undefined;
}

/** The branch's state once this read's messages are taken in. */
const withMessages = (book: SyncBook, plan: LandoPlan | undefined, branch: string, mirrored: boolean) =>
  branchAfterMessages(book.get(branch) ?? NEW_BRANCH, plan?.byBranch.get(branch) ?? [], { mirrored });

export function createGitSyncCheck(deps: GitSyncDeps): QueueCheck<SyncBook, LandoPlan, Map<string, BranchEvidence>, Draft, SyncReport> {
  const { config } = deps;
  const watched = new Set(config.branches.map((b) => b.branch));

  return {
    name: "git_sync",
    queue: config.queue,
    subjects: [{ key: "git_sync", labels: {} }],
    initial: new Map(config.branches.map((b) => [b.branch, NEW_BRANCH])),
    plan: (deliveries) => planLando(deliveries, { repoUrl: config.repoUrl, branches: watched }),
    async gather(input, book, signal) {
      const evidence = new Map<string, BranchEvidence>();
      if (input.kind === "not_read") return evidence;
      for (const { branch, repository } of config.branches) {
        const mirror = deps.gitMirrors.get(repository);
        const { branch: state, arrived } = withMessages(book, input.plan, branch, mirror !== undefined);
        evidence.set(branch, await gatherBranch(deps, state, arrived, repository, mirror, signal));
      }
      return evidence;
    },
    decide: (input, book, evidence, nowMs) => decide(input, book, evidence, nowMs, deps),
    conclude: (draft, settled, nowMs) => conclude(draft, settled, nowMs, deps),
  };
}

/** What a read of the Lando queue carries: each watched branch's Git pushes, and which message carries which. */
function planLando(deliveries: readonly Delivery[], options: { repoUrl: string; branches: ReadonlySet<string> }): ReadPlan<LandoPlan> {
  const byBranch = new Map<string, GitPush[]>();
  const carried = new Map<number, Array<{ branch: string; pushId: number }>>();
  const rejected: Array<{ index: number; reason: string; detail: string }> = [];
  const done: number[] = [];
  const skipped: string[] = [];
  deliveries.forEach((d, index) => {
    const message = decodeLandoMessage(d.body, options);
    if (message.kind === "rejected") rejected.push({ index, reason: message.reason, detail: message.detail });
    else if (message.kind === "skipped") {
      done.push(index);
      skipped.push(message.reason);
    } else {
      carried.set(
        index,
        message.pushes.map((p) => ({ branch: p.branch, pushId: p.pushId })),
      );
      for (const push of message.pushes) byBranch.set(push.branch, [...(byBranch.get(push.branch) ?? []), push]);
    }
  });
  return { plan: { byBranch, carried }, rejected, done, received: new Map(), skipped, duplicates: new Map(), notes: [] };
}

/** One branch: the hg pushes since it was last read, then whether the Git mirror has the heads still unmirrored. */
async function gatherBranch(
  deps: GitSyncDeps,
  branch: BranchSync,
  arrived: number,
  repository: string,
  mirror: Mirror | undefined,
  signal?: AbortSignal,
): Promise<BranchEvidence> {
  const evidence: BranchEvidence = { hgPushes: [], readUpTo: undefined, mirrorHas: undefined, failure: undefined, impossible: [] };
  try {
    const lastPushId = await deps.pushlog.lastPushId(repository, signal);
    const range = hgRangeToRead(branch, arrived, lastPushId);
    if (range !== undefined) {
      const ids = Array.from({ length: range.endId - range.startId }, (_, i) => range.startId + 1 + i);
      for (const slice of pushIdRanges(ids, SLICE)) {
        for (const push of (await deps.pushlog.fetchRange(repository, slice, signal)).pushes.values()) {
          // An hg push with a date no push can have settles nothing: its delay would be made up (push-time.ts).
          if (isUnixTime(push.pushTime)) evidence.hgPushes.push({ pushId: push.pushId, pushTime: push.pushTime, gitChangesets: push.gitChangesets ?? [] });
          else evidence.impossible.push({ pushId: push.pushId, date: push.pushTime });
        }
      }
    }
    // With nothing pending nothing is read, and the next read starts from the pushlog's end.
    evidence.readUpTo = range?.endId ?? lastPushId;
  } catch (error) {
    evidence.failure = checkFailure("pushlog", "hgmo", error, { context: repository, signal });
    return evidence;
  }
  const after = branchAfterPushlog(branch, evidence.hgPushes, evidence.readUpTo).branch;
  if (mirror !== undefined && after.unmirrored.size > 0) {
    try {
      evidence.mirrorHas = await mirror.has(
        [...after.unmirrored.values()].map((p) => p.head),
        signal,
      );
    } catch (error) {
      evidence.failure = checkFailure("mirror", "phabricator", error, { context: repository, signal });
    }
  }
  return evidence;
}

/** Each branch through the pushlog and the mirror; what is measured; which messages are decided. */
function decide(input: QueueInput<LandoPlan>, book: SyncBook, evidence: ReadonlyMap<string, BranchEvidence>, nowMs: number, deps: GitSyncDeps) {
  const plan = input.kind === "read" ? input.plan : undefined;
  const measurements: Measurement[] = [];
  const notes: Note[] = [];
  const failures = new Map<string, CheckFailure>();
  const synced = new Map<string, number>();
  const next = new Map(book);
  for (const { branch, repository } of deps.config.branches) {
    const mirror = deps.gitMirrors.get(repository);
    let state = withMessages(book, plan, branch, mirror !== undefined).branch;
    const seen = evidence.get(branch);
    if (seen !== undefined && seen.readUpTo !== undefined) {
      const result = branchAfterPushlog(state, seen.hgPushes, seen.readUpTo);
      state = result.branch;
      synced.set(branch, result.synced.length);
      for (const { push, hgPushId, delaySeconds } of result.synced) {
        if (delaySeconds !== undefined) measurements.push({ metric: "phabmon_sync_delay_seconds", labels: { branch, repository }, observe: delaySeconds });
        const fields = { branch, repository, gitPushId: push.pushId, head: push.head, hgPushId: hgPushId ?? null, delaySeconds: delaySeconds ?? null };
        notes.push({ level: "info", msg: "git push synced to hg", fields });
      }
      for (const { pushId, date } of seen.impossible)
        notes.push({ level: "warn", msg: "an hg push with an impossible date: not read", fields: { repository, pushId, date } });
    }
    if (seen?.mirrorHas !== undefined && mirror !== undefined) {
      const result = branchAfterMirror(state, seen.mirrorHas, nowMs);
      state = result.branch;
      for (const { push, seconds } of result.mirrored) {
        measurements.push({ metric: "phabmon_landing_to_mirror_seconds", labels: { repository, callsign: mirror.name }, observe: seconds });
        notes.push({
          level: "info",
          msg: "git push head found in the Git mirror",
          fields: { branch, repository, callsign: mirror.name, gitPushId: push.pushId, head: push.head, seconds },
        });
      }
    }
    if (seen?.failure !== undefined) failures.set(branch, seen.failure);
    else if (input.kind === "read" && input.queueLost) {
      failures.set(
        branch,
        checkFailure("queue", "pulse", new Error(`${deps.config.queue} was deleted since the last check: Git pushes announced meanwhile may be lost`)),
      );
    }
    next.set(branch, state);
  }
  // A message is acked once every Git push it carries is decided.
  const ack = [...(plan?.carried ?? new Map<number, Array<{ branch: string; pushId: number }>>())]
    .filter(([, pushes]) => pushes.every(({ branch, pushId }) => decided(next.get(branch) ?? NEW_BRANCH, pushId)))
    .map(([index]) => index);
  const draft: Draft = {
    book: next,
    failures,
    read: input.kind === "read",
    messages: input.kind === "read" ? input.deliveries.length : input.messages,
    synced,
    queueFailure: input.kind === "not_read" ? input.failure : undefined,
  };
  return { ack, setAside: [], measurements, notes, draft };
}

function conclude(draft: Draft, settled: Settled, nowMs: number, deps: GitSyncDeps): Conclusion<SyncBook, SyncReport> {
  const general = draft.queueFailure ?? settled.failure;
  const book = new Map(draft.book);
  const branches = deps.config.branches.map(({ branch, repository }) => {
    const failure = general ?? draft.failures.get(branch);
    const after = branchAfterCheck(book.get(branch) ?? NEW_BRANCH, {
      ok: failure === undefined,
      ...(failure === undefined ? {} : { error: failure.message }),
      read: draft.read,
      atMs: nowMs,
      repository,
    });
    const lag = lagSeconds(after.state, nowMs, deps.staleAfterMs);
    book.set(branch, branchAfterLag(after, lagPoint({ ok: failure === undefined, lagSeconds: lag }, nowMs), nowMs));
    return {
      branch,
      repository,
      ok: failure === undefined,
      ...(failure === undefined ? {} : { error: failure.message }),
      pending: after.pending.size,
      synced: draft.synced.get(branch) ?? 0,
      lagSeconds: lag,
    };
  });
  const first = general ?? [...draft.failures.values()][0];
  const report: SyncReport = { ok: first === undefined, messages: draft.messages, branches, ...(general === undefined ? {} : { error: general.message }) };
  return {
    state: book,
    failures: first === undefined ? new Map() : new Map([["git_sync", first]]),
    report,
    notes: [{ level: report.ok ? "info" : "error", msg: report.ok ? "git sync check done" : "git sync check failed", fields: { ...report } }],
  };
}
