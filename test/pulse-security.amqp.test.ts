// What the Pulse connection refuses, and what it never says: TLS certificates are verified, and a
// refused password appears nowhere in the output.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:tls";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const harness = harnessPerTest();
let tlsServer: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
  tlsServer = undefined;
});

it("refuses a broker whose TLS certificate it cannot verify, before sending anything", async () => {
  const h = await harness({ repositories: ["integration/autoland=MOZILLACENTRAL"], token: true });
  let handshakes = 0;
  tlsServer = createServer(
    {
      key: readFileSync(new URL("fixtures/tls/self-signed.key", import.meta.url)),
      cert: readFileSync(new URL("fixtures/tls/self-signed.crt", import.meta.url)),
    },
    () => {
      handshakes++;
    },
  );
  tlsServer.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => tlsServer!.listen(0, "127.0.0.1", resolve));
  const port = (tlsServer.address() as AddressInfo).port;

  const result = await h.run(["--once"], { PULSE_URL: `amqps://127.0.0.1:${port}` });

  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/replication lag \(seconds\): unknown .*check failed: .*cannot connect to 127\.0\.0\.1:\d+: self-signed certificate/);
  expect(handshakes).toBe(0);
});

it("gives up on a peer that accepts the connection and never speaks AMQP", async () => {
  const h = await harness({ repositories: ["integration/autoland=MOZILLACENTRAL"], token: true });
  const silent = createNetServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const port = (silent.address() as AddressInfo).port;
    const started = performance.now();
    // A check every 4 s: connecting may take a quarter of that, 1 s.
    const result = await h.run(["--once"], { PULSE_URL: `amqp://127.0.0.1:${port}`, CHECK_SCHEDULE: "*/4 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/check failed: .*cannot connect to 127\.0\.0\.1:\d+: no AMQP handshake within 1 s/);
    expect(performance.now() - started).toBeLessThan(3000);
  } finally {
    silent.close();
  }
});

it("reports a refused password without ever writing it", async () => {
  const h = await harness({ repositories: ["integration/autoland=MOZILLACENTRAL"], token: true });
  const password = "wrong-pulse-password-7f3a";

  const result = await h.run(["--once"], { PULSE_PASSWORD: password });

  expect(result.code).toBe(1);
  expect(result.stdout).toContain('refused the login of user "guest": check PULSE_USERNAME and PULSE_PASSWORD');
  const everything = result.stdout + result.stderr + JSON.stringify(result.logs);
  expect(everything).not.toContain(password);
});
