// The commands as operators run them: bin/report-lag and bin/display-lag as child processes, against
// the real broker and the local fakes.
import { describe, expect, it } from "vitest";
import { spawnCommand } from "./support/harness.ts";
import { harnessPerTest } from "./support/per-test.ts";
import { commitsOf } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

const pushIdsIn = (bodies: string[]) =>
  bodies.map((b) => (JSON.parse(b) as { payload: { data: { pushlog_pushes: Array<{ pushid: number }> } } }).payload.data.pushlog_pushes[0]?.pushid);

describe("bin/report-lag", () => {
  it("--once prints one result line per repository and exits 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
    const child = spawnCommand("report-lag", ["--once"], h.env);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    // Results on stdout, nothing else, so that they can be piped; the logs on stderr.
    expect(child.stdout()).toBe(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)\n`);
    expect(child.stderr()).toContain('"msg":"check done"');
    expect(await h.broker.depth()).toBe(0);
  });

  it("--once --json prints one JSON document on stdout, unknown as null, and the logs on stderr", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = Math.floor(Date.now() / 1000) - 600;
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t + 1, { mirrored: false });
    // A callsign the fake Phabricator does not have makes the second repository unknown.
    const child = spawnCommand("report-lag", ["--once", "--json", "--no-send"], {
      ...h.env,
      REPOSITORIES: `${AUTOLAND}=MOZILLACENTRAL,mozilla-central=NOSUCH`,
    });
    expect((await child.exited).code).toBe(1);
    const doc = JSON.parse(child.stdout()) as { ok: boolean; repositories: Array<Record<string, unknown>> };
    expect(doc.ok).toBe(false);
    expect(doc.repositories[0]).toMatchObject({ repository: AUTOLAND, mirror: "MOZILLACENTRAL", ok: true, pendingPushes: 1, error: null });
    expect(doc.repositories[0]?.lagSeconds).toBeGreaterThanOrEqual(595);
    expect(doc.repositories[0]?.stoppedAt).toMatchObject({ pushId: 2, reason: { kind: "missing" } });
    expect(doc.repositories[1]).toMatchObject({ repository: "mozilla-central", mirror: "NOSUCH", ok: false, lagSeconds: null, reason: "unknown_repository" });
    expect(child.stderr()).toContain('"msg":"check done"');
  });

  it("--no-send --debug (the smoke test) shows what it read and found, changes nothing, and stops on SIGTERM", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = Math.floor(Date.now() / 1000) - 600;
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t + 1, { mirrored: false });
    const before = await h.broker.peek();

    const child = spawnCommand("report-lag", ["--no-send", "--debug"], h.env);
    await child.waitFor(/replication lag \(seconds\): \d+/);
    expect(child.stdout()).toMatch(
      /integration\/autoland MOZILLACENTRAL replication lag \(seconds\): (59\d|60\d) \((9 min 5\d s|10 min( \d s)?)\) \(1 push pending\) \[push 2 not mirrored/,
    );
    expect(child.stdout()).toContain('"msg":"read a push message"');
    expect(child.stdout()).toContain('"msg":"checked a range of pushes"');
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await h.broker.peek()).toEqual(before);
  });

  it("on SIGTERM in the middle of a check exits 0 within 10 s and loses nothing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, latencyMs: 150 });
    await h.backlog(AUTOLAND, 1, 1000, Math.floor(Date.now() / 1000) - 3600);
    const child = spawnCommand("report-lag", [], { ...h.env, LOG_LEVEL: "debug" });
    await child.waitFor(/"msg":"checked a range of pushes"/);
    const signalled = performance.now();
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const exitMs = performance.now() - signalled;
    expect(exitMs).toBeLessThan(10_000);

    // What the check verified before the signal was acked; everything else is back, in push order.
    const report = child
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"msg":"check failed"'))
      .map((l) => JSON.parse(l) as { verified: number; error: string })[0];
    expect(report?.error).toBe("check stopped");
    const left = pushIdsIn(await h.broker.peek());
    expect(report!.verified + left.length).toBe(1000);
    expect(report!.verified).toBeLessThan(1000);
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 1000 - left.length + 1 + i));
  });

  it("stops at start-up with exit code 2 and one line per configuration problem, showing no secret", async () => {
    const child = spawnCommand("report-lag", [], {
      PULSE_USERNAME: "monitor",
      PULSE_PASSWORD: "pulse-password-never-shown",
      PULSE_URL: "amqps://x:pulse-password-never-shown@pulse.mozilla.org",
      PHABRICATOR_API_TOKEN: "api-token never-shown",
      PORT: "eighty",
    });
    expect(await child.exited).toEqual({ code: 2, signal: null });
    expect(child.stdout()).toBe("");
    expect(child.stderr().trim().split("\n")).toEqual([
      expect.stringMatching(/^configuration error: PULSE_URL: must not carry credentials/),
      expect.stringMatching(/^configuration error: PHABRICATOR_API_TOKEN: must be a single word/),
      expect.stringMatching(/^configuration error: PORT: must be a whole number/),
      expect.stringMatching(/^configuration error: PULSE_QUEUE_NAME: not set/),
      expect.stringMatching(/^configuration error: REPOSITORIES: not set/),
      expect.stringMatching(/^note: read from the environment only; there is no \/\S+\/\.env/),
    ]);
    expect(child.stderr()).not.toContain("never-shown");
  });

  it("--check-config exits 0 on a valid configuration when Pulse cannot be reached, saying it was not checked", async () => {
    const child = spawnCommand("report-lag", ["--check-config"], {
      PULSE_USERNAME: "monitor",
      PULSE_PASSWORD: "x",
      PULSE_QUEUE_NAME: "q",
      REPOSITORIES: `${AUTOLAND}=MOZILLACENTRAL`,
      PULSE_URL: "amqps://127.0.0.1:1",
    });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toContain(
      "pulse login: not checked, Pulse did not answer (127.0.0.1:1 refused the connection: check the host and port in PULSE_URL)",
    );
    expect(child.stdout()).toContain("configuration is valid");
  });
});

describe("bin/display-lag", () => {
  it("tells for each changeset whether the mirror has it, and for how long it has been missing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`, "mozilla-central=MOZILLACENTRAL"], token: false });
    const t = Math.floor(Date.now() / 1000) - 2 * 86_400;
    await h.push(AUTOLAND, 1, t);
    await h.push(AUTOLAND, 2, t, { mirrored: false });
    const [mirrored] = commitsOf(AUTOLAND, 1);
    const [missing] = commitsOf(AUTOLAND, 2);
    const child = spawnCommand("display-lag", [mirrored!, missing!.slice(0, 12), "0123456789ab"], h.env);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const lines = child.stdout().trim().split("\n");
    expect(lines[0]).toBe(`${mirrored} ${AUTOLAND} MOZILLACENTRAL: in the mirror (push 1); replication lag (seconds): 0`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${missing} ${AUTOLAND} MOZILLACENTRAL: NOT in the mirror \\(push 2, .*\\); replication lag \\(seconds\\): 1728\\d\\d \\(2 d( \\d+ s| 1 min)?\\)$`,
      ),
    );
    expect(lines[2]).toBe("0123456789ab: not found in any monitored repository");
    expect(lines).toHaveLength(3);
  });

  it("without NODE shows the queue head read-only", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 100, { mirrored: false });
    const before = await h.broker.peek();
    const child = spawnCommand("display-lag", [], h.env);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toMatch(/integration\/autoland MOZILLACENTRAL replication lag \(seconds\): 1\d\d \(\d min( \d+ s)?\) \(1 push pending\)/);
    expect(await h.broker.peek()).toEqual(before);
  });

  it("exits 1 when hg fails", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    h.hg.fault = "500";
    const child = spawnCommand("display-lag", ["0123456789ab"], { ...h.env, UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect((await child.exited).code).toBe(1);
    expect(child.stderr()).toContain("HTTP 500");
  });
});

describe("bin/report-lag killed", () => {
  it(
    "SIGKILL in the middle of a check with hundreds of unmirrored pushes: nothing lost, order kept, each push verified once",
    { timeout: 90_000 },
    async () => {
      const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, latencyMs: 150 });
      await h.backlog(AUTOLAND, 1, 600, Math.floor(Date.now() / 1000) - 3600, { unmirroredFrom: 201 });
      const first = spawnCommand("report-lag", [], { ...h.env, LOG_LEVEL: "debug" });
      await first.waitFor(/"msg":"checked a range of pushes"/);
      first.kill("SIGKILL");
      expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
      const countedBefore = first
        .stdout()
        .split("\n")
        .filter((l) => l.includes('"msg":"check done"'))
        .reduce((n, l) => n + (JSON.parse(l) as { verified: number }).verified, 0);

      // The broker took back every unacked delivery, in push order.
      const left = pushIdsIn(await h.broker.peek());
      expect(left).toEqual(Array.from({ length: 600 - countedBefore }, (_, i) => countedBefore + 1 + i));

      for (let id = 201; id <= 600; id++) h.phab.mirror("MOZILLACENTRAL", commitsOf(AUTOLAND, id));
      const second = spawnCommand("report-lag", ["--once"], { ...h.env, LOG_LEVEL: "info" });
      expect(await second.exited).toEqual({ code: 0, signal: null });
      const done = second
        .stderr()
        .split("\n")
        .find((l) => l.includes('"msg":"check done"')) as string;
      expect(countedBefore + (JSON.parse(done) as { verified: number }).verified).toBe(600);
      expect(await h.broker.depth()).toBe(0);
      console.log(`SIGKILL: ${countedBefore} verified before the kill, ${600 - countedBefore} after, 0 lost`);
    },
  );
});
