// Times read from upstream are data, not facts: a pushlog date no push can have is bad input, set aside
// with its reason, and never makes /status, a check or the StatsD sender throw; a date in the future
// (a skewed clock) never hides a lag as 0. The real service, the tests' broker, the local stand-ins.
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowS = () => Math.floor(Date.now() / 1000);

describe("times read from upstream", () => {
  it("a push whose pushlog date is impossible is set aside as bad_time, and /status, the checks and StatsD carry on", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const statsd = createSocket("udp4");
    await new Promise<void>((resolve) => statsd.bind(0, "127.0.0.1", resolve));
    try {
      // The message's time is a real one; the pushlog's date for the push is 1e13 (year 318857).
      await h.push(AUTOLAND, 1, 1e13, { messageTime: nowS() - 60 });
      await h.push(AUTOLAND, 2, nowS() - 30);
      const svc = await h.start([], { STATSD_HOST: "127.0.0.1", STATSD_PORT: String(statsd.address().port) });
      await svc.waitForLog("waiting for the next check");
      const res = await fetch(`${svc.url}/status`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { repositories: Array<{ status: string; lagSeconds: number | null }> };
      expect(body.repositories[0]).toMatchObject({ status: "ok", lagSeconds: 0 });
      expect((await fetch(`${svc.url}/`)).status).toBe(200);
      expect(svc.logs.filter((l) => l.msg === "check crashed")).toEqual([]);
      // Set aside with its reason in the rejected queue; the good push behind it is verified.
      const kept = await h.broker.peekWithHeaders(`${h.broker.queue}/rejected`);
      expect(kept.map((m) => m.headers["x-phabmon-reason"])).toEqual(["bad_time"]);
      expect(await h.broker.depth()).toBe(0);
      svc.signal();
      expect((await svc.finished).code).toBe(0);
    } finally {
      statsd.close();
    }
  });

  it("a push whose pushlog date is in the future counts from when the service first saw it, never as 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    // Not mirrored, and dated a day ahead (a skewed clock on the pushing host, or bad data).
    await h.push(AUTOLAND, 1, nowS() + 86_400, { mirrored: false, messageTime: nowS() + 86_400 });
    const seen = nowS();
    const result = await h.run(["--once", "--json"]);
    expect(result.code).toBe(0);
    const [autoland] = (JSON.parse(result.stdout) as { repositories: Array<{ lagSeconds: number; stoppedAt: { pushTime: string } | null }> }).repositories;
    // Counted from the check that first read it, never the 0 of max(0, now − date).
    expect(autoland?.lagSeconds).toBeGreaterThanOrEqual(1);
    expect(Date.parse(autoland?.stoppedAt?.pushTime ?? "") / 1000).toBeGreaterThanOrEqual(seen - 1);
    expect(Date.parse(autoland?.stoppedAt?.pushTime ?? "") / 1000).toBeLessThanOrEqual(nowS());
    expect(await h.broker.depth()).toBe(1);
  });
});
