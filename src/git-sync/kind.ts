// The Git → hg sync check as an entry of the check table: on with GIT_BRANCHES, reading its own queue
// (`…/git`) bound to Lando's exchange; reported in /__heartbeat__, not judged (the sync is
// git-hg-sync's).
import { iso } from "../core/iso-time.ts";
import { mirrorName, type Mirror } from "../mirror/mirror.ts";
import type { CheckContext, CheckInstance, CheckKind, RunReport } from "../run/check-kind.ts";
import { runnerPorts } from "../run/check-kind.ts";
import { createQueueCheckRunner } from "../run/run-queue-check.ts";
import { isFresh } from "../run/stale.ts";
import { lagSeconds } from "../run/lag.ts";
import { NEW_BRANCH } from "./branch-sync.ts";
import { createGitSyncCheck } from "./check.ts";
import { SYNC_FAILURE_REASONS, SYNC_RUN_METRICS, declareSyncMetrics, registerSyncCollectors } from "./metrics.ts";
import { formatSyncReport, syncJson, type SyncReport } from "./report.ts";
import { syncSection } from "./status.ts";

function create(context: CheckContext): CheckInstance {
  const { config, log } = context;
  const sync = config.gitSync;
  if (sync === undefined) throw new Error("the Git → hg sync check is off without GIT_BRANCHES");
  const gitRepositories = config.repositories.filter((r) => r.mirror.vcs === "git");
  const check = createGitSyncCheck({
    config: sync,
    pushlog: context.pushlog,
    gitMirrors: new Map(gitRepositories.map(({ path }) => [path, context.mirrors.get(path) as Mirror])),
    staleAfterMs: context.staleAfterMs,
    log: log.child({ component: "git-sync" }),
    now: context.now,
  });
  declareSyncMetrics(
    context.registry,
    sync.branches,
    gitRepositories.map((r) => ({ path: r.path, callsign: mirrorName(r.mirror) })),
  );
  const runner = createQueueCheckRunner(
    check,
    runnerPorts(context, { names: SYNC_RUN_METRICS, subjects: check.subjects, reasons: SYNC_FAILURE_REASONS, log: log.child({ component: "git-sync" }) }),
  );
  registerSyncCollectors(context.registry, {
    branches: sync.branches,
    states: runner.state,
    connected: context.pulse.connected,
    staleAfterMs: context.staleAfterMs,
    now: context.now,
    log: log.child({ component: "metrics" }),
  });
  const runReport = (report: SyncReport): RunReport => ({ ok: report.ok, lines: formatSyncReport(report), json: syncJson(report) });
  return {
    name: "git_sync",
    run: async (signal) => runReport(await runner.run(signal)),
    withoutRun(error, nowMs) {
      const book = runner.state();
      const branches = sync.branches.map(({ branch, repository }) => {
        const state = book.get(branch) ?? NEW_BRANCH;
        return {
          branch,
          repository,
          ok: false,
          error,
          pending: state.pending.size,
          synced: 0,
          lagSeconds: lagSeconds(state.state, nowMs, context.staleAfterMs),
        };
      });
      return runReport({ ok: false, error, messages: 0, branches });
    },
    status: (nowMs) =>
      syncSection(sync.branches, runner.state(), nowMs, {
        staleAfterMs: context.staleAfterMs,
        connected: context.pulse.connected(),
        startedAt: context.startedAt,
      }),
    health(nowMs) {
      const book = runner.state();
      const branches = sync.branches.map(({ branch, repository }) => {
        const state = (book.get(branch) ?? NEW_BRANCH).state;
        return [
          branch,
          {
            repository,
            healthy: isFresh(state.lastSuccessAt, nowMs, context.staleAfterMs),
            lastSuccess: iso(state.lastSuccessAt),
            lastError: state.lastError ?? null,
          },
        ] as const;
      });
      return { healthy: branches.every(([, b]) => b.healthy), details: Object.fromEntries(branches) };
    },
  };
}

export const gitSyncKind: CheckKind = {
  name: "git_sync",
  jsonKey: "gitSync",
  statusKey: "sync",
  heartbeatKey: "gitSync",
  judged: false,
  off: (config) => (config.gitSync === undefined ? "GIT_BRANCHES is not set" : undefined),
  queue: (config) =>
    config.gitSync === undefined ? undefined : { name: config.gitSync.queue, bindings: config.gitSync.routingKeys, exchange: config.gitSync.exchange },
  create,
};
