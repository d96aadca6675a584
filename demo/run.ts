// `npm run demo`: the real service (bin/report-lag, unmodified) against a local world this command builds
// and takes down again: a RabbitMQ (the one on 127.0.0.1:5672 when guest/guest opens it, else a node
// of its own started by scripts/test-broker), the tests' stand-ins for hg.mozilla.org and Phabricator
// (test/support/fake-hg.ts, fake-phabricator.ts: each answer in the real format, with its source), and
// a few pushes: integration/autoland fully mirrored, mozilla-central with its last push not mirrored,
// and one code-review Try push whose review is still running.
//   DEMO_AMQP_URL=amqp://user:pass@host:port  use that broker instead of looking on 5672
//   DEMO_PORT=8080                            the service's port (default: a free one)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect } from "amqplib";
import { prettyFactory } from "pino-pretty";
import { humanDuration } from "../src/core/duration.ts";
import { sampleIn } from "../test/support/scrape.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const say = (line: string) => process.stdout.write(`${line}\n`);
const cleanups: Array<() => Promise<void> | void> = [];

async function brokerAnswers(url: string): Promise<boolean> {
  try {
    const model = await connect(url, { timeout: 2000 });
    await model.close();
    return true;
  } catch {
    return false;
  }
}

/** A broker for the demo: the one given, the one on 5672, or a node of the demo's own. */
async function chooseBroker(): Promise<void> {
  const given = process.env.DEMO_AMQP_URL;
  const candidate = given ?? "amqp://guest:guest@127.0.0.1:5672";
  if (await brokerAnswers(candidate)) {
    const where = new URL(candidate);
    say(`demo: using the RabbitMQ on ${where.host}; the demo's exchange and queues there are deleted when it stops`);
    process.env.TEST_AMQP_URL = candidate;
    return;
  }
  if (given !== undefined) say(`demo: DEMO_AMQP_URL does not answer; starting a RabbitMQ node of the demo's own`);
  else say("demo: no RabbitMQ answers on 127.0.0.1:5672; starting a node of the demo's own (about 5 s)");
  const dir = mkdtempSync(join(tmpdir(), "phabmon-demo-broker-"));
  cleanups.push(() => {
    execFileSync(join(ROOT, "scripts", "test-broker"), ["stop", dir], { stdio: "inherit", timeout: 60_000 });
  });
  execFileSync(join(ROOT, "scripts", "test-broker"), ["start", dir], { stdio: ["ignore", "ignore", "inherit"], timeout: 180_000 });
  for (const line of readFileSync(join(dir, "env"), "utf8").split("\n")) {
    const [key, ...value] = line.split("=");
    if (key === "TEST_AMQP_URL") process.env.TEST_AMQP_URL = value.join("=");
  }
}

let stopping: Promise<void> | undefined;
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`demo: cleaning up failed: ${(error as Error).message}\n`);
      }
    }
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await chooseBroker();
  // After the broker is chosen: test/support/broker.ts reads TEST_AMQP_URL when it is loaded.
  const { startHarness } = await import("../test/support/harness.ts");
  const AUTOLAND = "integration/autoland";
  const CENTRAL = "mozilla-central";
  const h = await startHarness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`, `${CENTRAL}=MOZILLACENTRAL`], tryRepository: true });
  cleanups.push(() => h.close());
  const now = Math.floor(Date.now() / 1000);
  await h.push(AUTOLAND, 1, now - 40 * 60);
  await h.push(AUTOLAND, 2, now - 10 * 60);
  await h.push(CENTRAL, 1, now - 60 * 60);
  await h.push(CENTRAL, 2, now - 25 * 60, { mirrored: false });
  // A diff published 15 min ago; the bot pushed it to Try 3 min later; its analysis has not reported yet.
  const diff = "PHID-DIFF-demo000000000000001";
  h.phab.addDiff({ phid: diff, id: 1001, dateCreated: now - 15 * 60, revisionId: 501 });
  h.phab.addBuild(diff, { created: now - 15 * 60 });
  await h.tryPush(1, now - 12 * 60, diff, { revisionId: 501 });

  const cwd = mkdtempSync(join(tmpdir(), "phabmon-demo-"));
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  // Its own working directory, so that a developer's .env is not read; its own process group, so that
  // Ctrl-C reaches the demo, which stops the service with SIGTERM as Heroku would.
  const service = spawn(join(ROOT, "bin", "report-lag"), [], {
    cwd,
    detached: true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...h.env,
      PORT: process.env.DEMO_PORT ?? "0",
      LOG_LEVEL: "info",
      CHECK_SCHEDULE: "* * * * *",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => service.once("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    if (service.exitCode === null && service.signalCode === null) service.kill("SIGTERM");
    await exited;
  });
  void exited.then((code) => {
    if (stopping === undefined) {
      process.stderr.write(`demo: the service exited with code ${code}\n`);
      void stop(1);
    }
  });

  const pretty = prettyFactory({ colorize: process.stdout.isTTY === true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,service", singleLine: true });
  const firstChecks = Promise.withResolvers<void>();
  const listening = Promise.withResolvers<number>();
  createInterface({ input: service.stdout }).on("line", (line) => {
    let entry: Record<string, unknown> | undefined;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entry = undefined;
    }
    process.stdout.write(entry === undefined ? `${line}\n` : pretty(line));
    if (entry?.msg === "listening" && typeof entry.port === "number") listening.resolve(entry.port);
    // Logged once every check of a run (replication and code review) has reported (src/app/service.ts).
    if (entry?.msg === "waiting for the next check") firstChecks.resolve();
  });
  const port = await listening.promise;
  await firstChecks.promise;
  const url = `http://127.0.0.1:${port}/`;
  const metrics = await (await fetch(`${url}metrics`)).text();
  say("");
  say("demo: the service is running against the local world; open");
  say(url);
  say(`demo: ${url}metrics (Prometheus), ${url}__heartbeat__ (health), ${url}__version__`);
  say("demo: what the first check found (phabmon_replication_lag_seconds):");
  for (const repository of [AUTOLAND, CENTRAL]) {
    const lag = sampleIn(metrics, `phabmon_replication_lag_seconds{repository="${repository}",callsign="MOZILLACENTRAL"}`) ?? Number.NaN;
    const what = Number.isNaN(lag)
      ? "unknown"
      : lag === 0
        ? "0 s, the mirror has every push"
        : `${Math.round(lag)} s (${humanDuration(lag)}), lagging: a push is not in the mirror`;
    say(`  ${repository.padEnd(22)} ${what}`);
  }
  const inFlight = sampleIn(metrics, "phabmon_reviews_in_flight");
  if (inFlight !== undefined) say(`  ${"try (code review)".padEnd(22)} ${Number.isNaN(inFlight) ? "unknown" : inFlight} review(s) in flight`);
  say("demo: expected: integration/autoland at 0 s, mozilla-central lagging by about 25 min and growing, 1 review in flight.");
  say("demo: the service checks again every minute. Ctrl-C stops it, the stand-ins and any broker the demo started.");
} catch (error) {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  await stop(1);
}
