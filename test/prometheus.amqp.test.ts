// A real Prometheus (Debian's package) scraping a running report-lag with the alert rules loaded:
// the lag series and an alert's state read through its HTTP API. And the names the dashboards and
// alerts query are names the service exports.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { RULES, SLO_RULES, alertRules, dashboardExpressions, metricsIn, promtool, readRules } from "./support/promtool.ts";
import { commitsOf } from "./support/hgpush.ts";
import { landoPush } from "./support/lando.ts";

const AUTOLAND = "integration/autoland";
const CENTRAL = "mozilla-central";
const harness = harnessPerTest();
const TOKEN = "metrics-token-for-prometheus";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function poll<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The metric families a scrape exports, with a histogram's _bucket, _sum and _count series. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name as string}${suffix}`);
  }
  return names;
}

describe("Prometheus", () => {
  it("scrapes report-lag with the bearer token, sees the lag, and evaluates the alert rules on it", async () => {
    // Fully configured: the code-review pipeline, a repository checked as Git, and the Git → hg sync.
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`, `${CENTRAL}=FIREFOX:git`], tryRepository: true, gitBranches: `main=${CENTRAL}` });
    const now = Math.floor(Date.now() / 1000);
    await h.push(AUTOLAND, 1, now - 3700, { mirrored: false });
    await h.push(CENTRAL, 1, now - 500, { mirrored: false, git: {} });
    await h.broker.publishLando(landoPush(1, now - 560, { main: commitsOf(`git:${CENTRAL}`, 1, 4)[3] as string }));
    h.phab.addDiff({ phid: "PHID-DIFF-prom", id: 1, dateCreated: now - 900 });
    h.phab.addBuild("PHID-DIFF-prom");
    await h.tryPush(5, now - 800, "PHID-DIFF-prom");
    const svc = await h.start([], { METRICS_TOKEN: TOKEN });
    await svc.waitForLog("code-review pipeline check done");
    await svc.waitForLog("git sync check done");

    // Every name the dashboards and the alert rules ask for is exported by this (fully configured) service.
    const text = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const exported = exportedNames(text);
    // The objectives' generated rules too (their histograms, lags and the pipeline's view), read whole.
    const asked = new Set([...dashboardExpressions(), ...alertRules().map((r) => r.expr), readRules(SLO_RULES)].flatMap(metricsIn));
    expect(asked.size).toBeGreaterThan(15);
    expect([...asked].filter((name) => !exported.has(name))).toEqual([]);
    // promtool's lint of the service's own families (Node's default metrics are prom-client's naming).
    const own = text
      .split("\n")
      .filter((l) => /^(# (HELP|TYPE) )?phabmon_/.test(l))
      .join("\n");
    const lint = await promtool(["check", "metrics"], `${own}\n`);
    expect(lint.output).toBe("");
    expect(lint.code).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), "phabmon-prometheus-"));
    writeFileSync(join(dir, "token"), TOKEN);
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        `rule_files: [${JSON.stringify(RULES)}, ${JSON.stringify(SLO_RULES)}]`,
        "scrape_configs:",
        "  - job_name: phabricator-repo-monitor",
        "    metrics_path: /metrics",
        `    authorization: { type: Bearer, credentials_file: ${JSON.stringify(join(dir, "token"))} }`,
        `    static_configs: [{ targets: ["127.0.0.1:${svc.port}"] }]`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    const prometheus = spawn(
      "prometheus",
      [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    prometheus.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const api = `http://127.0.0.1:${port}/api/v1`;
    try {
      const lag = await poll("the lag series in Prometheus", async () => {
        const body = (await (await fetch(`${api}/query?query=${encodeURIComponent(`phabmon_replication_lag_seconds{repository="${AUTOLAND}"}`)}`)).json()) as {
          data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        return body.data.result[0];
      });
      expect(lag.metric).toMatchObject({ job: "phabricator-repo-monitor", repository: AUTOLAND, callsign: "MOZILLACENTRAL" });
      expect(Number(lag.value[1])).toBeGreaterThanOrEqual(3700);
      expect(Number(lag.value[1])).toBeLessThan(3760);

      // Over an hour behind: both lag alerts are pending (their for: is 10 minutes), the other alerts quiet.
      // Each rule group is evaluated on its own tick, and one evaluated before the first scrape sees no
      // phabmon_build_info: PhabmonDown is rightly pending until its group's first tick after a scrape.
      // So wait for that tick rather than read the alerts of whichever group ran last.
      let seen: string[] = [];
      const alerts = await poll("the lag alerts to be pending and PhabmonDown cleared", async () => {
        const body = (await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
        // The burn-rate alerts (the lag over 10 min is waiting, bad) turn pending on their own groups' ticks:
        // left out of this list; their firing minutes are promtool's (grafana/alerts/phabmon.slo.rules.test.yml).
        body.data.alerts = body.data.alerts.filter((a) => !(a.labels.alertname as string).startsWith("PhabmonErrorBudgetBurn"));
        const names = body.data.alerts.map((a) => a.labels.alertname as string);
        seen = names;
        const lagPending = names.includes("PhabmonReplicationLagHigh") && names.includes("PhabmonReplicationLagCritical");
        return lagPending && !names.includes("PhabmonDown") ? body.data.alerts : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; last alerts: ${seen.join(", ")}`);
      });
      expect(alerts.map((a) => [a.labels.alertname, a.labels.severity, a.labels.repository, a.state]).sort()).toEqual([
        ["PhabmonReplicationLagCritical", "critical", AUTOLAND, "pending"],
        ["PhabmonReplicationLagHigh", "warning", AUTOLAND, "pending"],
      ]);
      // Prometheus loaded the objectives' groups, one per objective, every rule healthy.
      const groups = (await (await fetch(`${api}/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: Array<{ health: string; name: string }> }> };
      };
      const slo = groups.data.groups.filter((g) => g.name.startsWith("phabricator-repo-monitor-slo-"));
      expect(slo.map((g) => g.name).sort()).toEqual([
        "phabricator-repo-monitor-slo-git_sync",
        "phabricator-repo-monitor-slo-replication",
        "phabricator-repo-monitor-slo-try_push_latency",
      ]);
      expect(slo.flatMap((g) => g.rules).filter((r) => r.health === "err")).toEqual([]);
      const up = (await (await fetch(`${api}/query?query=up`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      expect(up.data.result.map((r) => r.value[1])).toEqual(["1"]);
      const inFlight = (await (await fetch(`${api}/query?query=phabmon_reviews_in_flight`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      expect(inFlight.data.result.map((r) => r.value[1])).toEqual(["1"]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nprometheus said:\n${stderr.slice(-3000)}`);
    } finally {
      prometheus.kill("SIGTERM");
      await new Promise((resolve) => prometheus.once("exit", resolve));
      svc.signal();
      await svc.finished;
    }
  }, 90_000);
});
