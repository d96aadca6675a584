// Errors that say what to do, read as the person at the terminal reads them: one line, naming the
// variable or the host, with no OpenSSL or amqplib internals and no retry loop in --once.
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { AMQP_URL } from "./support/broker.ts";
import { spawnCommand } from "./support/harness.ts";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const plainPort = Number(new URL(AMQP_URL).port);
const servers: Array<NetServer | TlsServer> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function listening(server: NetServer | TlsServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const resultLines = (stdout: string) => stdout.split("\n").filter((l) => l !== "");

describe("report-lag --once: errors that say what to do", () => {
  it("a queue missing in read-only mode is one line and exit 1, with no retry", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const started = Date.now();
    const result = await h.run(["--once", "--no-send"], { PULSE_QUEUE_NAME: "nosuch" });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(resultLines(result.stdout)).toEqual([
      `${AUTOLAND} MOZILLACENTRAL replication lag (seconds): unknown [check failed: queue queue/guest/nosuch does not exist, and read-only mode (--no-send) creates nothing: run the service once without --no-send to declare it, or check PULSE_QUEUE_NAME]`,
    ]);
  });

  it("a missing Try queue fails only the code-review result, never the replication result", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], tryRepository: true });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
    const ch = await h.broker.model.createChannel();
    await ch.deleteQueue(h.broker.tryQueue);
    await ch.close();
    const result = await h.run(["--once", "--no-send"]);
    const [replication, pipeline] = resultLines(result.stdout);
    expect(replication).toBe(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(pipeline).toContain(`queue ${h.broker.tryQueue} does not exist, and read-only mode (--no-send) creates nothing`);
    expect(result.code).toBe(1);
  });

  it("a refused login names PULSE_USERNAME and PULSE_PASSWORD, and never the password", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--once", "--no-send"], { PULSE_PASSWORD: "not-the-password-x7" });
    expect(result.code).toBe(1);
    expect(resultLines(result.stdout)).toEqual([
      `${AUTOLAND} MOZILLACENTRAL replication lag (seconds): unknown [check failed: 127.0.0.1:${plainPort} refused the login of user "guest": check PULSE_USERNAME and PULSE_PASSWORD]`,
    ]);
    expect(result.stdout + result.stderr + JSON.stringify(result.logs)).not.toContain("not-the-password-x7");
  });

  it("amqps:// to a plain AMQP port says to check amqp:// vs amqps://, on one line without OpenSSL's words", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--once", "--no-send"], { PULSE_URL: `amqps://127.0.0.1:${plainPort}` });
    expect(result.code).toBe(1);
    expect(resultLines(result.stdout)).toEqual([
      `${AUTOLAND} MOZILLACENTRAL replication lag (seconds): unknown [check failed: 127.0.0.1:${plainPort} does not speak TLS: check amqp:// vs amqps:// in PULSE_URL (Pulse itself is amqps:// on 5671)]`,
    ]);
    expect(result.stdout).not.toMatch(/SSL routines|openssl/i);
  });

  it("amqp:// to a TLS port says PULSE_URL should start with amqps://", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const tls = createTlsServer({
      key: readFileSync(new URL("fixtures/tls/self-signed.key", import.meta.url)),
      cert: readFileSync(new URL("fixtures/tls/self-signed.crt", import.meta.url)),
    });
    // Node's TLS server drops a client whose first bytes are no ClientHello (here AMQP's protocol header).
    tls.on("tlsClientError", () => undefined);
    const port = await listening(tls);
    const result = await h.run(["--once", "--no-send"], { PULSE_URL: `amqp://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(resultLines(result.stdout)[0]).toContain(
      `127.0.0.1:${port} closed the connection during the AMQP handshake: if that port speaks TLS, PULSE_URL should start with amqps://`,
    );
  });

  it("an unreachable upstream is named by its host", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`] });
    await h.push(AUTOLAND, 1, Math.floor(Date.now() / 1000) - 60);
    const closed = await listening(createNetServer());
    await new Promise<void>((resolve) => (servers.pop() as NetServer).close(() => resolve()));
    const result = await h.run(["--once", "--no-send"], { PHABRICATOR_URL: `http://127.0.0.1:${closed}` });
    expect(resultLines(result.stdout)[0]).toMatch(
      new RegExp(`check failed: 127\\.0\\.0\\.1:${closed} GET /diffusion/MOZILLACENTRAL/: ECONNREFUSED after 3 attempts`),
    );
  });

  it("missing variables say where .env was looked for", async () => {
    const child = spawnCommand("report-lag", ["--once"], {});
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toContain("configuration error: PULSE_USERNAME: not set");
    expect(child.stderr()).toMatch(/^note: read from the environment only; there is no \/\S+\/\.env \(copy \.env\.example there to start one\)$/m);
  });

  it("one Ctrl-C while the connection is being attempted stops --once at once", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    // Accepts and never answers: the AMQP handshake would wait out its 30 s timeout.
    const silent = createNetServer((socket) => sockets.push(socket));
    const port = await listening(silent);
    const connected = new Promise<void>((resolve) => silent.once("connection", () => resolve()));
    const child = spawnCommand("report-lag", ["--once", "--no-send"], { ...h.env, PULSE_URL: `amqp://127.0.0.1:${port}` });
    await connected;
    const sent = Date.now();
    child.kill("SIGINT");
    const { code } = await child.exited;
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(code).toBe(1);
    expect(child.stdout()).toMatch(/replication lag \(seconds\): unknown \[check failed: .*stopped/);
  });
});
