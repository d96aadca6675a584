// `npm run demo` as a newcomer runs it: the command, its printed URL and findings, and Ctrl-C leaving
// nothing behind. It is pointed at the tests' own broker (DEMO_AMQP_URL), or at a closed port to make
// it start a node of its own; the machine's broker is never used here.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { connect } from "amqplib";
import { afterEach, describe, expect, it } from "vitest";
import { AMQP_URL } from "./support/broker.ts";
import { ROOT } from "./support/harness.ts";

// A demo left running by a failed assertion is stopped as a person would stop it (Ctrl-C), so that its
// service, its exchange and any broker node it started do not outlive the test.
const running: Array<{ child: ReturnType<typeof spawn>; exited: Promise<number | null> }> = [];
afterEach(async () => {
  for (const demo of running.splice(0)) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill("SIGINT");
    await demo.exited;
  }
});

function runDemo(env: Record<string, string>) {
  const child = spawn(`${ROOT}scripts/node`, [`${ROOT}demo/run.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  running.push({ child, exited });
  // Settles on the output that matches, on the demo's exit, or at the deadline: whichever comes first.
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out);
        if (match === null) return;
        done();
        resolve(match);
      };
      const fail = () => {
        done();
        reject(new Error(`no ${pattern} in:\n${out}\n${err}`));
      };
      const timer = setTimeout(fail, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        child.stdout.off("data", check);
        child.off("exit", fail);
      };
      child.stdout.on("data", check);
      child.once("exit", fail);
      check();
      if (child.exitCode !== null) fail();
    });
  return { child, exited, waitFor, out: () => out, err: () => err };
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function exchangeExists(name: string): Promise<boolean> {
  const model = await connect(AMQP_URL);
  try {
    const ch = await model.createChannel();
    ch.on("error", () => undefined);
    return await ch.checkExchange(name).then(
      () => true,
      () => false,
    );
  } finally {
    await model.close().catch(() => undefined);
  }
}

describe("npm run demo", () => {
  it("serves the real service on the URL it prints, shows one repository lagging and one not, and Ctrl-C removes what it made", async () => {
    const demo = runDemo({ DEMO_AMQP_URL: AMQP_URL });
    const [, url] = await demo.waitFor(/^(http:\/\/127\.0\.0\.1:\d+\/)$/m, 25_000);
    await demo.waitFor(/Ctrl-C stops it/, 10_000);
    expect(demo.out()).toMatch(/^ {2}integration\/autoland +0 s, the mirror has every push$/m);
    expect(demo.out()).toMatch(/^ {2}mozilla-central +15\d\d s \(25 min( \d+ s)?\), lagging: a push is not in the mirror$/m);
    expect(demo.out()).toMatch(/^ {2}try \(code review\) +1 review\(s\) in flight$/m);
    const page = await fetch(url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('href="/metrics"');
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toMatch(/phabmon_replication_lag_seconds\{repository="integration\/autoland"[^}]*\} 0$/m);
    const exchange = /"exchange":"([^"]+)"|exchange: "([^"]+)"/.exec(demo.out());
    const name = (exchange?.[1] ?? exchange?.[2]) as string;
    expect(await exchangeExists(name)).toBe(true);

    demo.child.kill("SIGINT");
    expect(await demo.exited).toBe(0);
    await expect(fetch(url as string)).rejects.toThrow();
    expect(await exchangeExists(name)).toBe(false);
  }, 60_000);

  it("starts a RabbitMQ node of its own when none answers, and stops it on Ctrl-C", async () => {
    const demo = runDemo({ DEMO_AMQP_URL: `amqp://guest:guest@127.0.0.1:${await closedPort()}` });
    await demo.waitFor(/starting a RabbitMQ node of the demo's own/, 10_000);
    await demo.waitFor(/Ctrl-C stops it/, 120_000);
    // The node's Erlang VM runs with its data folder as HOME (scripts/test-broker).
    const dir = /data in (\/\S+)/.exec(demo.err())?.[1] as string;
    expect(dir).toMatch(/phabmon-demo-broker-/);
    const running = () => execFileSync("ps", ["-ww", "-eo", "args"], { encoding: "utf8" }).includes(dir);
    expect(running()).toBe(true);
    demo.child.kill("SIGINT");
    expect(await demo.exited).toBe(0);
    // `rabbitmqctl stop` returns as the node stops; its VM is gone a moment later.
    for (let i = 0; i < 50 && running(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(running()).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 180_000);
});
