// The replication check as an entry of the check table (src/app/check-table.ts): always on, judged
// in /__heartbeat__'s status code, reading the main queue bound to every repository of REPOSITORIES.
import { iso } from "../core/iso-time.ts";
import { mirrorName } from "../mirror/mirror.ts";
import type { CheckContext, CheckInstance, CheckKind, RunReport } from "../run/check-kind.ts";
import { runnerPorts } from "../run/check-kind.ts";
import { createQueueCheckRunner } from "../run/run-queue-check.ts";
import { lagSeconds } from "../run/lag.ts";
import { createReplicationCheck } from "./check.ts";
import { REPLICATION_FAILURE_REASONS, REPLICATION_RUN_METRICS, declareReplicationMetrics, registerReplicationCollectors } from "./metrics.ts";
import { formatReport, reportJson, type CheckReport } from "./report.ts";
import { repositoriesSection } from "./status.ts";

const runReport = (report: CheckReport): RunReport & { report: CheckReport } => ({
  ok: report.ok,
  lines: report.repositories.map(formatReport),
  json: reportJson(report),
  report,
});

function create(context: CheckContext): CheckInstance {
  const { config, log } = context;
  const check = createReplicationCheck({
    repositories: config.repositories,
    queue: config.pulse.queue,
    hgUrl: config.hgUrl,
    pushlog: context.pushlog,
    mirrors: context.mirrors,
    staleAfterMs: context.staleAfterMs,
    log: log.child({ component: "check" }),
    now: context.now,
  });
  declareReplicationMetrics(context.registry, config.repositories);
  const runner = createQueueCheckRunner(
    check,
    runnerPorts(context, {
      names: REPLICATION_RUN_METRICS,
      subjects: check.subjects,
      reasons: REPLICATION_FAILURE_REASONS,
      log: log.child({ component: "check" }),
    }),
  );
  const states = () => new Map([...runner.state()].map(([path, watch]) => [path, watch.state]));
  const repositories = config.repositories.map((r) => ({
    path: r.path,
    callsign: mirrorName(r.mirror),
    noInputAfterMs: config.noInputAfterMs.byRepository[r.path] ?? config.noInputAfterMs.default,
  }));
  const policy = { staleAfterMs: context.staleAfterMs, stalledAfterChecks: config.stalledAfterChecks, noInputAfterMs: config.noInputAfterMs.default };
  const section = (nowMs: number) =>
    repositoriesSection(
      repositories,
      states(),
      nowMs,
      policy,
      { connected: context.pulse.connected(), startedAt: context.startedAt },
      new Map([...runner.state()].map(([path, watch]) => [path, watch.history])),
    );
  registerReplicationCollectors(context.registry, {
    repositories: config.repositories,
    states,
    section: () => section(context.now()),
    connected: context.pulse.connected,
    staleAfterMs: context.staleAfterMs,
    now: context.now,
    log: log.child({ component: "metrics" }),
  });
  return {
    name: "replication",
    run: async (signal) => runReport(await runner.run(signal)),
    withoutRun(error, nowMs) {
      const known = states();
      return runReport({
        ok: false,
        error,
        messages: 0,
        durationMs: 0,
        repositories: config.repositories.map((repo) => {
          const state = known.get(repo.path);
          const lag = state === undefined ? Number.NaN : lagSeconds(state, nowMs, context.staleAfterMs);
          return { repository: repo.path, mirror: mirrorName(repo.mirror), ok: false, error, lagSeconds: lag, pending: state?.pendingPushes, verified: 0 };
        }),
      });
    },
    status: section,
    health(nowMs) {
      const subjects = runner.health(nowMs);
      return {
        healthy: subjects.every((s) => s.healthy),
        details: Object.fromEntries(subjects.map((s) => [s.key, { healthy: s.healthy, lastSuccess: iso(s.lastSuccessAt), lastError: s.lastError ?? null }])),
      };
    },
  };
}

export const replicationKind: CheckKind = {
  name: "replication",
  jsonKey: "repositories",
  statusKey: "repositories",
  heartbeatKey: "checks",
  judged: true,
  off: () => undefined,
  queue: (config) => ({ name: config.pulse.queue, bindings: config.repositories.map((r) => r.path) }),
  create,
};
