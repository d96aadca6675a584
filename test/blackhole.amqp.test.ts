// The broker's TCP connection black-holed (no FIN, no RST: packets just stop), through a proxy of the
// test's own: the service notices within 45 s, shows Pulse disconnected, never reports a false 0,
// keeps /metrics answering, and reconnects by itself when the network comes back, losing nothing.
import { expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { harnessPerTest } from "./support/per-test.ts";
import { AMQP_URL } from "./support/broker.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";
import { scrapeSample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const LAG = `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`;
const harness = harnessPerTest();

it("a black-holed broker connection is noticed within 45 s and recovered from, with nothing lost", { timeout: 150_000 }, async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const broker = new URL(AMQP_URL);
  const proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
  try {
    const t = Math.floor(Date.now() / 1000) - 600;
    await h.push(AUTOLAND, 1, t);
    const svc = await h.start([], { PULSE_URL: `amqp://127.0.0.1:${proxy.port}/`, CHECK_SCHEDULE: "*/2 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
    await svc.waitForLog("check done");
    expect(await scrapeSample(svc.url, LAG)).toBe("0");

    proxy.blackhole();
    const cut = performance.now();
    // Published while the network is gone: the broker keeps it.
    await h.push(AUTOLAND, 2, t + 10);
    let detectedS: number | undefined;
    const zeros: string[] = [];
    while (performance.now() - cut < 60_000) {
      const started = performance.now();
      const connected = await scrapeSample(svc.url, "phabmon_pulse_connected");
      // Answers, within the 2 s a scrape waits for the queue depths (src/pulse/queue-depths.ts).
      expect(performance.now() - started).toBeLessThan(3000);
      const lag = await scrapeSample(svc.url, LAG);
      if (connected === "0") {
        detectedS = (performance.now() - cut) / 1000;
        // Disconnected: the lag is unknown, never 0.
        if (lag === "0") zeros.push(lag);
        break;
      }
      await sleep(500);
    }
    expect(detectedS).toBeDefined();
    expect(detectedS as number).toBeLessThan(45);
    await sleep(3000);
    expect(await scrapeSample(svc.url, LAG)).not.toBe("0");
    expect(zeros).toEqual([]);

    proxy.restore();
    const back = performance.now();
    const verified = `phabmon_pushes_verified_total{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`;
    while ((await scrapeSample(svc.url, verified)) !== "2" && performance.now() - back < 60_000) await sleep(500);
    const recoveredS = (performance.now() - back) / 1000;
    expect(await scrapeSample(svc.url, verified)).toBe("2");
    expect(await scrapeSample(svc.url, LAG)).toBe("0");
    expect(await h.broker.depth()).toBe(0);
    // A heartbeat timeout is not a deleted queue: no lost-queue search was started.
    expect(svc.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("our queue"))).toEqual([]);
    console.log(
      `black hole: detected after ${(detectedS as number).toFixed(1)} s, recovered ${recoveredS.toFixed(1)} s after the network came back, 0 messages lost`,
    );
    svc.signal();
    await svc.finished;
  } finally {
    await proxy.close();
  }
});
