// `report-lag --check-config` logs in to Pulse as the service would (the tests' own RabbitMQ), declares
// nothing and closes: a login the broker refuses is a configuration error (exit 2) naming
// PULSE_USERNAME and PULSE_PASSWORD, never the password; a broker that does not answer is said and
// fails nothing, as Phabricator down does. With a problem, only the problems are printed, every one.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AMQP_URL } from "../support/broker.ts";
import { harnessPerTest } from "../support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const brokerHost = new URL(AMQP_URL).host;
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: one the system gave and that was closed again. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("report-lag --check-config logs in to Pulse", () => {
  it("says the login was accepted, and declares nothing", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const queueName = `check-config-declares-nothing-${process.pid}`;
    const result = await h.run(["--check-config"], { PULSE_QUEUE_NAME: queueName });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pulse: ${brokerHost} accepted the login of user "guest"\n`);
    expect(result.stdout).toMatch(/\nconfiguration is valid: queue queue\/guest\/check-config-declares-nothing-\d+ on /);
    const ch = await h.broker.model.createChannel();
    ch.on("error", () => undefined);
    await expect(ch.checkQueue(`queue/guest/${queueName}`)).rejects.toThrow(/404/);
  });

  it("a refused login is one line naming PULSE_USERNAME and PULSE_PASSWORD, exit 2, never the password, nothing else printed", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--check-config"], { PULSE_PASSWORD: "not-the-password-x7" });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `configuration error: PULSE_PASSWORD: ${brokerHost} refused the login of user "guest": check PULSE_USERNAME and PULSE_PASSWORD\n`,
    );
    expect(result.stdout).toBe("");
    expect(result.stdout + result.stderr + JSON.stringify(result.logs)).not.toContain("not-the-password-x7");
  });

  it("says every problem of every check at once: the refused login and each unknown callsign", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--check-config"], {
      PULSE_USERNAME: "nosuch-user",
      REPOSITORIES: `${AUTOLAND}=MOZILLACENTRAL,mozilla-central=CENTRAL,releases/mozilla-beta=BETA`,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n").filter(Boolean)).toEqual([
      `configuration error: PULSE_PASSWORD: ${brokerHost} refused the login of user "nosuch-user": check PULSE_USERNAME and PULSE_PASSWORD`,
      "configuration error: REPOSITORIES: Phabricator has no repository with the callsign CENTRAL",
      "configuration error: REPOSITORIES: Phabricator has no repository with the callsign BETA",
    ]);
    expect(result.stdout).toBe("");
  });

  it("a virtual host the broker refuses names PULSE_URL, exit 2", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--check-config"], { PULSE_URL: `amqp://${brokerHost}/nosuch-vhost` });
    expect(result.code).toBe(2);
    // The tests' user is guest with the password guest: the secret is scrubbed wherever it appears.
    expect(result.stderr).toBe(
      `configuration error: PULSE_URL: ${brokerHost} refused user "[redacted]" the virtual host "nosuch-vhost": check the path of PULSE_URL (none means /) and PULSE_USERNAME\n`,
    );
  });

  it("a broker that cannot be reached is said and fails nothing, as Phabricator down does", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const port = await unusedPort();
    const result = await h.run(["--check-config"], { PULSE_URL: `amqp://127.0.0.1:${port}` });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `pulse login: not checked, Pulse did not answer (127.0.0.1:${port} refused the connection: check the host and port in PULSE_URL)\n`,
    );
    expect(result.stdout).toContain("configuration is valid");
  });

  it("a broker that accepts the connection and never answers is given up after UPSTREAM_TIMEOUT_SECONDS", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const silent = createServer((socket) => sockets.push(socket));
    const port = await listening(silent);
    const started = performance.now();
    const result = await h.run(["--check-config"], { PULSE_URL: `amqp://127.0.0.1:${port}`, UPSTREAM_TIMEOUT_SECONDS: "1" });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pulse login: not checked, Pulse did not answer (cannot connect to 127.0.0.1:${port}: no AMQP handshake within 1 s)\n`);
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(5);
    console.log(`silent broker: --check-config took ${seconds.toFixed(2)} s with UPSTREAM_TIMEOUT_SECONDS=1`);
  });
});
