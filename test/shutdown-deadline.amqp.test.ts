// A stop has an overall deadline below Heroku's 30 s: with the broker's connection black-holed, closing
// it would wait for the heartbeat to give up; the stop ends at its deadline instead, and the message the
// check did not ack stays on the queue. The service in-process, the tests' broker behind a proxy.
import { expect, it } from "vitest";
import { pino } from "pino";
import { readConfig } from "../src/config/config.ts";
import { buildApp } from "../src/app/build-app.ts";
import { startService } from "../src/app/service.ts";
import { AMQP_URL } from "./support/broker.ts";
import { harnessPerTest } from "./support/per-test.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const version = { source: "test", version: "test", commit: "test", build: "local" };

it("a stop that would wait on a silent broker ends at its deadline", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const broker = new URL(AMQP_URL);
  const proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
  try {
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60, { mirrored: false });
    const config = readConfig({ ...h.env, PULSE_URL: `amqp://127.0.0.1:${proxy.port}/` });
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const app = buildApp({ config, log, version, readOnly: false, drainIdleMs: 300 });
    const service = await startService(app, { port: 0, metricsTokens: [], version });
    while (!lines.some((l) => l.msg === "waiting for the next check")) await new Promise((resolve) => setTimeout(resolve, 50));
    proxy.blackhole();
    const started = performance.now();
    await service.stop({ deadlineMs: 2000 });
    const tookS = (performance.now() - started) / 1000;
    expect(tookS).toBeLessThan(5);
    expect(lines.some((l) => l.msg === "stopping took too long: exiting without waiting further")).toBe(true);
    // Nothing acked that was not verified: the unmirrored push stays queued.
    expect(await h.broker.depth()).toBe(1);
  } finally {
    await proxy.close();
  }
});
