// scripts/test-broker when a port it was given is taken before the node binds it: the node stops at
// boot (could_not_start_listener), and the script starts it again on two other ports at once instead
// of waiting 120 s for a node that is gone. This test starts, and stops, a node of its own.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "amqplib";
import { afterEach, expect, it } from "vitest";

const SCRIPT = new URL("../scripts/test-broker", import.meta.url).pathname;
const run = promisify(execFile);
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));

it("starts the node again on other ports when the AMQP port it chose is taken", { timeout: 120_000 }, async () => {
  const taken = createServer();
  const port = await listen(taken);
  cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
  const dir = mkdtempSync(join(tmpdir(), "phabmon-test-broker-race-"));
  cleanups.push(() => run(SCRIPT, ["stop", dir]));

  // Killed at 110 s: a script that waited out its 120 s for the dead node fails here.
  const { stderr } = await run(SCRIPT, ["start", dir], { env: { ...process.env, TEST_BROKER_PORTS: `${port} ${port + 1}` }, timeout: 110_000 });

  expect(stderr).toContain(`stopped while starting on ports ${port}/${port + 1}`);
  const url = /^TEST_AMQP_URL=(.*)$/m.exec(readFileSync(join(dir, "env"), "utf8"))?.[1] as string;
  expect(url).not.toContain(`:${port}`);
  const model = await connect(url);
  await model.close();
});
