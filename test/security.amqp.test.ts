// Secrets never leave the process except to where they belong, requests only go to HG_URL and
// PHABRICATOR_URL, and HTTPS upstreams must present a certificate Node trusts.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { brokerctl } from "./support/broker.ts";
import { spawnCommand } from "./support/harness.ts";
import { listenLocal } from "./support/local-server.ts";
import { badMessages } from "./support/bad-messages.ts";
import { changegroupV2 } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const user = `phabmon-secret-${randomBytes(3).toString("hex")}`;
const pulsePassword = `pulse-pw-${randomBytes(8).toString("hex")}`;
const metricsToken = `metrics-${randomBytes(8).toString("hex")}`;
// During a rotation METRICS_TOKEN holds the new token and the old one: each is a secret of its own.
const oldMetricsToken = `old-metrics-${randomBytes(8).toString("hex")}`;

const rabbitmqctl = brokerctl;

beforeAll(() => {
  // A Pulse user of our own, so that its password is a string nothing else would print.
  rabbitmqctl("add_user", user, pulsePassword);
  rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*");
});
afterAll(() => {
  rabbitmqctl("delete_user", user);
});

it("writes no secret anywhere under faults, and asks no host but HG_URL and PHABRICATOR_URL", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const elsewhere: string[] = [];
  const evil = await listenLocal((req, res) => {
    elsewhere.push(`${req.method} ${req.url}`);
    res.end("{}");
    return Promise.resolve();
  });
  const conduitToken = h.phab.token;
  const env = {
    ...h.env,
    PULSE_USERNAME: user,
    PULSE_PASSWORD: pulsePassword,
    PULSE_QUEUE_NAME: `secret-${randomBytes(3).toString("hex")}`,
    METRICS_TOKEN: `${metricsToken},${oldMetricsToken}`,
    CHECK_SCHEDULE: "*/2 * * * * *",
    UPSTREAM_TIMEOUT_SECONDS: "1",
    LOG_LEVEL: "trace",
  };
  const child = spawnCommand("report-lag", [], env);
  try {
    await child.waitFor(/"msg":"check done"/);
    // Messages that point elsewhere, and every bad message we know.
    const t = Math.floor(Date.now() / 1000) - 60;
    h.hg.addPush(AUTOLAND, { pushId: 1, date: t, user: "u", changesets: [] });
    const lure = changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 1, time: t }]);
    const entry = lure.payload.data.pushlog_pushes[0]!;
    entry.push_json_url = `${evil.url}/json-pushes`;
    entry.push_full_json_url = `${evil.url}/json-pushes?full=1`;
    await h.broker.publish(AUTOLAND, lure);
    await h.broker.publish(AUTOLAND, changegroupV2(evil.url, AUTOLAND, [{ pushId: 2, time: t }]));
    for (const bad of badMessages(h.hg.url, AUTOLAND)) {
      await h.broker.publish(bad.routingKey, null, { raw: bad.body, contentType: bad.contentType ?? "application/json" });
    }
    await child.waitFor(/"msg":"set aside a malformed or foreign message"/);
    // Upstream faults, a refused token, a cut connection.
    h.hg.fault = "500";
    await h.push(AUTOLAND, 3, t);
    await child.waitFor(/json-pushes: HTTP 500/);
    h.hg.fault = "none";
    h.phab.token = "api-the-fake-now-wants-another-one";
    await child.waitFor(/ERR-INVALID-AUTH/);
    rabbitmqctl("close_all_connections", "cut by the security test");
    await h.broker.reconnect();
    await child.waitFor(/"reconnected":true/);

    const port = (
      JSON.parse(
        child
          .stdout()
          .split("\n")
          .find((l) => l.includes('"msg":"listening"'))!,
      ) as { port: number }
    ).port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const heartbeat = await (await fetch(`http://127.0.0.1:${port}/__heartbeat__`)).text();
    const oldAuth = { headers: { authorization: `Bearer ${oldMetricsToken}` } };
    const details = await (await fetch(`http://127.0.0.1:${port}/__heartbeat__`, oldAuth)).text();
    expect(details).toContain('"runs":');
    expect(heartbeat).not.toContain('"runs":');
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, oldAuth)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: "Bearer a-third-token-0123456789" } })).status).toBe(401);
    child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);

    const help = spawnCommand("report-lag", ["--help"], env);
    await help.exited;
    const badConfig = spawnCommand("report-lag", ["--check-config"], { ...env, PORT: "nope", PULSE_URL: `amqp://${user}:${pulsePassword}@127.0.0.1` });
    expect((await badConfig.exited).code).toBe(2);

    const everything = [child.stdout(), child.stderr(), metrics, heartbeat, details, help.stdout(), help.stderr(), badConfig.stdout(), badConfig.stderr()].join(
      "\n",
    );
    expect(everything.length).toBeGreaterThan(10_000);
    for (const secret of [pulsePassword, conduitToken, metricsToken, oldMetricsToken]) expect(everything).not.toContain(secret);
    expect(elsewhere).toEqual([]);
    // The Conduit token went to Phabricator, and only in form bodies.
    expect(h.phab.bodies.some((b) => b.includes(encodeURIComponent(conduitToken)) || b.includes(conduitToken))).toBe(true);
  } finally {
    child.kill("SIGKILL");
    await evil.close();
    // The service declared a queue of this test's own user; the harness only removes its own.
    const ch = await h.broker.model.createChannel();
    await ch.deleteQueue(`queue/${user}/${env.PULSE_QUEUE_NAME}`).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }
}, 90_000);

it("refuses an HTTPS upstream whose certificate it cannot verify", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  let served = 0;
  const server = createHttpsServer(
    {
      key: readFileSync(new URL("fixtures/tls/self-signed.key", import.meta.url)),
      cert: readFileSync(new URL("fixtures/tls/self-signed.crt", import.meta.url)),
    },
    (_req, res) => {
      served++;
      res.end("{}");
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The push must name the HTTPS host as its repo_url, or it would be set aside as foreign.
    await h.broker.publish(AUTOLAND, changegroupV2(url, AUTOLAND, [{ pushId: 1, time: 1_700_000_000 }]));
    const checked = await h.run(["--once"], { HG_URL: url, UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/json-pushes: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    expect(served).toBe(0);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
