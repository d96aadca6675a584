// A real Alertmanager for the tests (Debian's prometheus-alertmanager), on loopback with its own storage
// and clustering off, driven through its v2 API
// (https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml); and a webhook sink that
// records what each receiver is sent.
import { spawn } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Alertmanager {
  api: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts Alertmanager on `config`; resolves once its API answers. */
export async function startAlertmanager(config: string): Promise<Alertmanager> {
  const storage = mkdtempSync(join(tmpdir(), "phabmon-alertmanager-"));
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api/v2`;
  const child = spawn(
    "prometheus-alertmanager",
    [`--config.file=${config}`, `--storage.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
    { stdio: "ignore" },
  );
  const stop = async () => {
    // Alertmanager writes its state files while it stops: its folder is removed once it has exited
    // (removed at once, it failed the file now and then with ENOTEMPTY).
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(storage, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${api}/status`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { api, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error("Alertmanager did not start");
}

/** Posts alerts as Prometheus does: labels, an annotation, firing from now. */
export async function post(api: string, alerts: Array<Record<string, string>>): Promise<void> {
  const startsAt = new Date().toISOString();
  const res = await fetch(`${api}/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: labels.alertname ?? "" }, startsAt }))),
  });
  if (res.status !== 200) throw new Error(`Alertmanager answered ${res.status} to the alerts posted`);
}

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

/** `alertname/job/instance/repository`, the key of `states`. */
export function key(labels: Record<string, string>): string {
  return `${labels.alertname}/${labels.job ?? ""}/${labels.instance ?? ""}/${labels.repository ?? ""}`;
}

/**
 * Each alert's state once the inhibitor has caught up: it fills its rules' source caches from a
 * subscription of its own (prometheus/alertmanager inhibit/inhibit.go, Inhibitor.run), so a read right
 * after the post can still show an alert as active that its source is about to inhibit (seen once in a
 * CI run). Read again until `settled` holds, or for 5 s; the caller asserts on the last read either
 * way, so an inhibition that never comes still fails the test.
 */
export async function states(api: string, expected: number, settled: (states: Map<string, string>) => boolean): Promise<Map<string, string>> {
  let last: Map<string, string> | undefined;
  for (let i = 0; i < 50; i++) {
    const alerts = (await (await fetch(`${api}/alerts`)).json()) as AmAlert[];
    if (alerts.length >= expected) {
      last = new Map(alerts.map((a) => [key(a.labels), a.status.state]));
      if (settled(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (last) return last;
  throw new Error("alerts did not arrive");
}

/** One webhook notification (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export interface Notification {
  receiver: string;
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

/** An HTTP server that keeps every notification POSTed to it, by path (`/pager`, `/tickets`). */
export async function webhookSink() {
  const received = new Map<string, Notification[]>();
  const events = new EventEmitter();
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const list = received.get(req.url ?? "") ?? [];
      list.push(JSON.parse(body) as Notification);
      received.set(req.url ?? "", list);
      res.end();
      events.emit("notification");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: (path: string): Notification[] => received.get(path) ?? [],
    /** Resolves with the first notification to `path` that `matches`, when it has come. */
    async next(path: string, matches: (n: Notification) => boolean): Promise<Notification> {
      for (;;) {
        const found = (received.get(path) ?? []).find(matches);
        if (found) return found;
        await once(events, "notification");
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
