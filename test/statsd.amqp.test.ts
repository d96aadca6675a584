// The earlier service's DogStatsD gauge, sent by the real service (its own process) to a real UDP
// socket the test listens on: the lag after a check, and nothing at all while the lag is unknown.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const CENTRAL = "mozilla-central";
const harness = harnessPerTest();
let socket: Socket | undefined;

/** A UDP listener on loopback that keeps every datagram as text. */
async function listen(): Promise<{ port: number; lines: string[] }> {
  const lines: string[] = [];
  socket = createSocket("udp4");
  socket.on("message", (msg) => lines.push(...msg.toString("utf8").split("\n").filter(Boolean)));
  await new Promise<void>((resolve) => socket?.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, lines };
}

afterEach(() => {
  socket?.close();
  socket = undefined;
});

async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("STATSD_HOST (service)", () => {
  it("sends phabricator.repository.<callsign>.seconds_behind_source_repo for each callsign after a check", async () => {
    const udp = await listen();
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`, `${CENTRAL}=MOZILLACENTRAL`], token: true });
    const t = Math.floor(Date.now() / 1000);
    await h.push(AUTOLAND, 1, t - 120);
    await h.push(CENTRAL, 1, t - 1500, { mirrored: false });
    const svc = await h.start([], { STATSD_HOST: "127.0.0.1", STATSD_PORT: String(udp.port) });
    await svc.waitForLog("waiting for the next check");
    await until(() => udp.lines.length >= 2);
    expect(udp.lines).toContain("phabricator.repository.autoland.seconds_behind_source_repo:0|g");
    const central = udp.lines.find((l) => l.startsWith("phabricator.repository.mozillacentral.seconds_behind_source_repo:"));
    const value = Number(/:(\d+)\|g$/.exec(central ?? "")?.[1]);
    expect(value).toBeGreaterThanOrEqual(1500);
    expect(value).toBeLessThan(1530);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });

  it("sends nothing while the lag is unknown (checks failing), never a 0, and the real lag once a check completes", async () => {
    const udp = await listen();
    const h = await harness({ repositories: [`${AUTOLAND}=AUTOLAND`], token: true });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 600, { mirrored: false });
    h.hg.fault = "500";
    const svc = await h.start([], { STATSD_HOST: "127.0.0.1", STATSD_PORT: String(udp.port), UPSTREAM_TIMEOUT_SECONDS: "1", CHECK_SCHEDULE: "*/2 * * * * *" });
    // Two failed checks, each followed by a send of what is known: nothing.
    await svc.waitForLog("check failed", 2);
    await svc.waitForLog("waiting for the next check", 2);
    expect(udp.lines).toEqual([]);
    h.hg.fault = "none";
    await until(() => udp.lines.length > 0);
    // The first point is the real lag of the unmirrored push, not a 0 standing for "unknown".
    expect(udp.lines[0]).toMatch(/^phabricator\.repository\.autoland\.seconds_behind_source_repo:6\d\d\|g$/);
    expect(udp.lines.some((l) => l.endsWith(":0|g"))).toBe(false);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });
});
