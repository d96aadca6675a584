// What /__heartbeat__ answers: healthy when connected to Pulse and every judged check's last success
// is recent enough (the stale rule, src/run/stale.ts); for anyone, a status word and one boolean per
// check; with the metrics token, each check's details under its kind's heartbeatKey ("off" when it is
// off), the connection and the scheduler's runs.
import type { runsSummary } from "../run/check-runs.ts";
import type { TableEntry } from "./build-app.ts";

export interface Heartbeat {
  healthy: boolean;
  summary: { status: "ok" | "error"; checks: Record<string, boolean> };
  body: Record<string, unknown>;
}

export function heartbeat(
  table: readonly TableEntry[],
  options: { connected: boolean; runs: Record<string, ReturnType<typeof runsSummary>>; nowMs: number },
): Heartbeat {
  const checks: Record<string, boolean> = { pulse: options.connected };
  const details: Record<string, unknown> = {};
  let healthy = options.connected;
  for (const { kind, check } of table) {
    if (check === undefined) {
      if (kind.heartbeatKey !== undefined) details[kind.heartbeatKey] = "off";
      continue;
    }
    const health = check.health(options.nowMs);
    checks[kind.name] = health.healthy;
    if (kind.heartbeatKey !== undefined) details[kind.heartbeatKey] = health.details;
    // Reported, not judged, for the checks whose health is another team's (Try, git-hg-sync).
    if (kind.judged) healthy &&= health.healthy;
  }
  const status = healthy ? "ok" : "error";
  // Per check of the scheduler in `runs`: failures in a row (3 or more: failing), the last run, whether one is running.
  return { healthy, summary: { status, checks }, body: { status, pulse: { connected: options.connected }, ...details, runs: options.runs } };
}
