// HTTP server hygiene on PORT: hundreds of idle connections and slow-header (slowloris) clients do not
// stop /metrics and /__lbheartbeat__ from answering within a second, and the process's open file
// descriptors fall back once the header and idle timeouts (src/http/server.ts HTTP_LIMITS) drop them.
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { spawnCommand } from "./support/harness.ts";

const harness = harnessPerTest();
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

async function timed(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

it("idle and slow-header clients neither block the answers nor hold descriptors past the timeouts", { timeout: 60_000 }, async () => {
  const h = await harness({ repositories: ["integration/autoland=MOZILLACENTRAL"], token: true });
  const child = spawnCommand("report-lag", [], { ...h.env, LOG_LEVEL: "info" });
  try {
    await child.waitFor(/"msg":"check done"/);
    const line = child
      .stdout()
      .split("\n")
      .find((l) => l.includes('"msg":"listening"')) as string;
    const port = (JSON.parse(line) as { port: number }).port;
    const before = fds(child.pid);

    const sockets: Socket[] = [];
    let closed = 0;
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(port, "127.0.0.1", () => resolve(s));
        s.once("error", reject);
        s.on("close", () => closed++);
        s.resume();
      });
    for (let i = 0; i < 250; i++) sockets.push(await open());
    const slow: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = await open();
      s.on("error", () => undefined);
      s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
      slow.push(s);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write("X-a: b\r\n");
    }, 500);
    await sleep(500);
    const peak = fds(child.pid);

    const heartbeat = await timed(`http://127.0.0.1:${port}/__lbheartbeat__`);
    const metrics = await timed(`http://127.0.0.1:${port}/metrics`);
    expect(heartbeat.status).toBe(200);
    expect(metrics.status).toBe(200);
    expect(heartbeat.ms).toBeLessThan(1000);
    expect(metrics.ms).toBeLessThan(1000);

    // Headers not complete within 5 s, checked every second: all 300 are dropped by about 6 s.
    await sleep(7000);
    clearInterval(drip);
    const after = fds(child.pid);
    console.log(`fds before ${before}, peak ${peak}, after ${after}; ${closed} of 300 clients dropped by the server`);
    expect(peak).toBeGreaterThan(before + 250);
    expect(after).toBeLessThanOrEqual(before + 5);
    expect(closed).toBe(300);
    for (const s of [...sockets, ...slow]) s.destroy();
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
});
