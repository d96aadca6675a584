// The example Alertmanager configuration (grafana/alertmanager/alertmanager.example.yml): amtool checks
// it and tests its routes, and a real Alertmanager (Debian's prometheus-alertmanager, started here on
// loopback with its own storage, clustering off) shows that one cause pages once: alerts posted as
// Prometheus would, read back with their inhibition through the v2 API
// (https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inhibitRules } from "./support/alertmanager-config.ts";
import { key, post, startAlertmanager, states, webhookSink, type Alertmanager } from "./support/alertmanager.ts";
import { ROOT } from "./support/harness.ts";

const CONFIG = join(ROOT, "grafana/alertmanager/alertmanager.example.yml");
const JOB = "phabricator-repo-monitor";

function run(command: string, args: string[]): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 127) : 0, output: `${stdout}${stderr}`, stdout }),
    );
  });
}

const route = async (...labels: string[]) =>
  (await run("amtool", ["config", "routes", "test", `--config.file=${CONFIG}`, ...labels])).stdout.trim().split("\n").pop();

describe("the example Alertmanager configuration (amtool)", () => {
  it("passes amtool check-config", async () => {
    const check = await run("amtool", ["check-config", CONFIG]);
    expect(check.output).toContain("SUCCESS");
    expect(check.code).toBe(0);
    // The same count as test/support/alertmanager-config.ts reads (the README's table is held to that).
    expect(check.output).toContain(`- ${inhibitRules().length} inhibit rules`);
  });

  it("pages on critical alerts, the vanished-target PhabmonDown included, and files warnings", async () => {
    expect(await route("alertname=PhabmonCheckStale", "severity=critical", `job=${JOB}`)).toBe("phabmon-pager");
    expect(await route("alertname=PhabmonDown", "severity=critical")).toBe("phabmon-pager");
    expect(await route("alertname=PhabmonPulseDown", "severity=critical", `job=${JOB}`, "instance=web.1")).toBe("phabmon-pager");
    expect(await route("alertname=PhabmonPulseDisconnected", "severity=warning", `job=${JOB}`, "instance=web.1")).toBe("phabmon-tickets");
    expect(await route("alertname=PhabmonNoInput", "severity=warning", `job=${JOB}`)).toBe("phabmon-tickets");
    expect(await route("alertname=PhabmonWatchedQueueBacklog", "severity=warning", `job=${JOB}`)).toBe("phabmon-tickets");
  });

  it("pages on the fast and medium burn of an objective's error budget, and files the slow burn", async () => {
    expect(await route("alertname=PhabmonErrorBudgetBurnFast", "severity=critical", `job=${JOB}`, "objective=replication")).toBe("phabmon-pager");
    expect(await route("alertname=PhabmonErrorBudgetBurnMedium", "severity=critical", `job=${JOB}`, "objective=git_sync")).toBe("phabmon-pager");
    expect(await route("alertname=PhabmonErrorBudgetBurnSlow", "severity=warning", `job=${JOB}`, "objective=try_push_latency")).toBe("phabmon-tickets");
  });
});

let alertmanager: Alertmanager;

beforeAll(async () => {
  alertmanager = await startAlertmanager(CONFIG);
}, 30_000);

afterAll(async () => {
  await alertmanager?.stop();
});

const suppressed =
  (...keys: string[]) =>
  (got: Map<string, string>) =>
    keys.every((k) => got.get(k) === "suppressed");

describe("one cause, one page (a real Alertmanager)", () => {
  it("Pulse down silences the failing, stale and unknown alerts it causes, on that deployment only", async () => {
    const production = { job: JOB, instance: "web.1" };
    const staging = { job: `${JOB}-staging`, instance: "web.1" };
    await post(alertmanager.api, [
      { alertname: "PhabmonPulseDisconnected", severity: "warning", ...production },
      { alertname: "PhabmonChecksFailing", severity: "warning", repository: "integration/autoland", ...production },
      { alertname: "PhabmonReplicationLagUnknown", severity: "warning", repository: "integration/autoland", callsign: "AUTOLAND", ...production },
      { alertname: "PhabmonPipelineCheckStale", severity: "warning", ...production },
      { alertname: "PhabmonChecksFailing", severity: "warning", repository: "integration/autoland", ...staging },
      { alertname: "PhabmonReplicationLagCritical", severity: "critical", repository: "mozilla-central", callsign: "MOZILLACENTRAL", ...production },
      { alertname: "PhabmonReplicationLagHigh", severity: "warning", repository: "mozilla-central", callsign: "MOZILLACENTRAL", ...production },
    ]);
    const got = await states(
      alertmanager.api,
      7,
      suppressed(
        `PhabmonChecksFailing/${JOB}/web.1/integration/autoland`,
        `PhabmonReplicationLagUnknown/${JOB}/web.1/integration/autoland`,
        `PhabmonPipelineCheckStale/${JOB}/web.1/`,
        `PhabmonReplicationLagHigh/${JOB}/web.1/mozilla-central`,
      ),
    );
    expect(got.get(`PhabmonPulseDisconnected/${JOB}/web.1/`)).toBe("active");
    expect(got.get(`PhabmonChecksFailing/${JOB}/web.1/integration/autoland`)).toBe("suppressed");
    expect(got.get(`PhabmonReplicationLagUnknown/${JOB}/web.1/integration/autoland`)).toBe("suppressed");
    expect(got.get(`PhabmonPipelineCheckStale/${JOB}/web.1/`)).toBe("suppressed");
    // Staging's Pulse is fine: its failing checks are its own news.
    expect(got.get(`PhabmonChecksFailing/${JOB}-staging/web.1/integration/autoland`)).toBe("active");
    // The critical lag silences the warning of the same repository; it is not Pulse's doing.
    expect(got.get(`PhabmonReplicationLagCritical/${JOB}/web.1/mozilla-central`)).toBe("active");
    expect(got.get(`PhabmonReplicationLagHigh/${JOB}/web.1/mozilla-central`)).toBe("suppressed");
  });

  it("a vanished target (PhabmonDown without a job) silences every other alert of the service", async () => {
    await post(alertmanager.api, [
      { alertname: "PhabmonDown", severity: "critical" },
      { alertname: "PhabmonReplicationLagHigh", severity: "warning", repository: "releases/mozilla-beta", callsign: "BETA", job: JOB, instance: "web.2" },
    ]);
    const got = await states(alertmanager.api, 9, suppressed(`PhabmonReplicationLagHigh/${JOB}/web.2/releases/mozilla-beta`));
    expect(got.get("PhabmonDown///")).toBe("active");
    expect(got.get(`PhabmonReplicationLagHigh/${JOB}/web.2/releases/mozilla-beta`)).toBe("suppressed");
  });
});

describe("an objective's burn pages, and silences the threshold alerts it duplicates (a real Alertmanager)", () => {
  let own: Alertmanager;

  beforeAll(async () => {
    own = await startAlertmanager(CONFIG);
  }, 30_000);

  afterAll(async () => {
    await own?.stop();
  });

  it("the fast burn of replication is the one page: the lag alerts of that deployment, and the medium and slow burns, are silenced", async () => {
    const production = { job: JOB };
    const at = { job: JOB, instance: "web.1" };
    const replication = { objective: "replication", ...production };
    await post(own.api, [
      { alertname: "PhabmonErrorBudgetBurnFast", severity: "critical", ...replication },
      { alertname: "PhabmonErrorBudgetBurnMedium", severity: "critical", ...replication },
      { alertname: "PhabmonErrorBudgetBurnSlow", severity: "warning", ...replication },
      { alertname: "PhabmonReplicationLagCritical", severity: "critical", repository: "integration/autoland", callsign: "AUTOLAND", ...at },
      { alertname: "PhabmonReplicationLagHigh", severity: "warning", repository: "mozilla-central", callsign: "MOZILLACENTRAL", ...at },
      // Not the same measure: the unknown lag says why, the sync and Try alerts are other objectives'.
      { alertname: "PhabmonReplicationLagUnknown", severity: "warning", repository: "releases/mozilla-beta", callsign: "BETA", ...at },
      { alertname: "PhabmonSyncLagHigh", severity: "warning", repository: "integration/autoland", branch: "autoland", ...at },
      { alertname: "PhabmonTryPushLatencyHigh", severity: "warning", ...at },
      // Staging's lag is its own news.
      {
        alertname: "PhabmonReplicationLagCritical",
        severity: "critical",
        repository: "integration/autoland",
        callsign: "AUTOLAND",
        job: `${JOB}-staging`,
        instance: "web.1",
      },
    ]);
    const got = await states(
      own.api,
      9,
      suppressed(
        `PhabmonErrorBudgetBurnMedium/${JOB}//`,
        `PhabmonErrorBudgetBurnSlow/${JOB}//`,
        `PhabmonReplicationLagCritical/${JOB}/web.1/integration/autoland`,
        `PhabmonReplicationLagHigh/${JOB}/web.1/mozilla-central`,
      ),
    );
    expect(got.get(`PhabmonErrorBudgetBurnFast/${JOB}//`)).toBe("active");
    expect(got.get(`PhabmonErrorBudgetBurnMedium/${JOB}//`)).toBe("suppressed");
    expect(got.get(`PhabmonErrorBudgetBurnSlow/${JOB}//`)).toBe("suppressed");
    expect(got.get(`PhabmonReplicationLagCritical/${JOB}/web.1/integration/autoland`)).toBe("suppressed");
    expect(got.get(`PhabmonReplicationLagHigh/${JOB}/web.1/mozilla-central`)).toBe("suppressed");
    expect(got.get(`PhabmonReplicationLagUnknown/${JOB}/web.1/releases/mozilla-beta`)).toBe("active");
    expect(got.get(`PhabmonSyncLagHigh/${JOB}/web.1/integration/autoland`)).toBe("active");
    expect(got.get(`PhabmonTryPushLatencyHigh/${JOB}/web.1/`)).toBe("active");
    expect(got.get(`PhabmonReplicationLagCritical/${JOB}-staging/web.1/integration/autoland`)).toBe("active");
  });

  it("while Pulse is disconnected the burn it causes (unknown lags count as late) does not page: PhabmonPulseDown will", async () => {
    const other = `${JOB}-pulse`;
    await post(own.api, [
      { alertname: "PhabmonPulseDisconnected", severity: "warning", job: other, instance: "web.1" },
      { alertname: "PhabmonErrorBudgetBurnFast", severity: "critical", objective: "git_sync", job: other },
    ]);
    const got = await states(own.api, 11, suppressed(`PhabmonErrorBudgetBurnFast/${other}//`));
    expect(got.get(`PhabmonPulseDisconnected/${other}/web.1/`)).toBe("active");
    expect(got.get(`PhabmonErrorBudgetBurnFast/${other}//`)).toBe("suppressed");
  });
});

/**
 * The example configuration with only what a test cannot use changed: the receivers' placeholder URLs
 * point at a local webhook sink, and group_wait is 1 s instead of 1 m. Each replaced text must be
 * there once, so an edit of the example that moves them fails here instead of testing something else.
 */
function deliverable(sink: string): string {
  let yaml = readFileSync(CONFIG, "utf8");
  for (const [from, to] of [
    ["http://127.0.0.1:9/pager", `${sink}/pager`],
    ["http://127.0.0.1:9/tickets", `${sink}/tickets`],
    ["group_wait: 1m", "group_wait: 1s"],
  ] as const) {
    expect(yaml.split(from).length - 1, from).toBe(1);
    yaml = yaml.replace(from, to);
  }
  return yaml;
}

describe("a Pulse outage pages once, after an hour (a real Alertmanager, delivering to webhooks)", () => {
  let delivering: Alertmanager;
  let sink: Awaited<ReturnType<typeof webhookSink>>;
  let dir: string;

  beforeAll(async () => {
    sink = await webhookSink();
    dir = mkdtempSync(join(tmpdir(), "phabmon-alertmanager-config-"));
    writeFileSync(join(dir, "alertmanager.yml"), deliverable(sink.url));
    delivering = await startAlertmanager(join(dir, "alertmanager.yml"));
  }, 30_000);

  afterAll(async () => {
    await delivering?.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const at = { job: JOB, instance: "web.1" };
  const disconnected = { alertname: "PhabmonPulseDisconnected", severity: "warning", ...at };
  const stale = { alertname: "PhabmonCheckStale", severity: "critical", repository: "integration/autoland", ...at };
  const down = { alertname: "PhabmonPulseDown", severity: "critical", ...at };
  const names = (path: string) => sink.sent(path).flatMap((n) => n.alerts.map((a) => `${a.status} ${a.labels.alertname}`));

  it("before the hour a ticket only; from the hour PhabmonPulseDown pages, and the warning and the stale check stay silenced", async () => {
    // Minutes 10 to 60 of the outage: the warning and the critical stale check it causes.
    await post(delivering.api, [disconnected, stale]);
    const ticket = await sink.next("/tickets", (n) => n.alerts.some((a) => a.labels.alertname === "PhabmonPulseDisconnected"));
    expect(ticket.alerts.map((a) => `${a.status} ${a.labels.alertname}`)).toEqual(["firing PhabmonPulseDisconnected"]);
    const before = await states(delivering.api, 2, (got) => got.get(key(stale)) === "suppressed");
    expect(before.get(key(disconnected))).toBe("active");
    expect(before.get(key(stale))).toBe("suppressed");

    // The hour: PhabmonPulseDown joins them (posted once the first group_wait has passed and the ticket
    // was sent, so any page for the stale check would have come before this one).
    await post(delivering.api, [disconnected, stale, down]);
    const page = await sink.next("/pager", () => true);
    expect(page.alerts.map((a) => `${a.status} ${a.labels.alertname}`)).toEqual(["firing PhabmonPulseDown"]);
    const after = await states(delivering.api, 3, (got) => got.get(key(disconnected)) === "suppressed");
    expect(after.get(key(down))).toBe("active");
    expect(after.get(key(disconnected))).toBe("suppressed");
    expect(after.get(key(stale))).toBe("suppressed");

    // Nothing else reached the pager: the stale check never paged, before the hour or after it.
    expect(names("/pager")).toEqual(["firing PhabmonPulseDown"]);
    expect(names("/tickets")).toEqual(["firing PhabmonPulseDisconnected"]);
  });
});
