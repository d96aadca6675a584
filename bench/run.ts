// `npm run bench`: the real service (bin/report-lag as a child process) against a RabbitMQ node of
// its own (scripts/test-broker, as the tests) and local fakes of hg and Phabricator that answer after a set latency (for the drains in a process of their own, bench/upstream-process.ts). Prints a table.
//   node bench/run.ts [--pushes 5000] [--latency 20] [--commits 4] [--node-options=…] [--only token|head|steady|pipeline|scrape]
//                     [--head-concurrency N] [--scrape-seconds 30] [--scrape-rate 100] [--checks 1000] [--diffs 500] [--repeat N]
// The steady-state run checks once a second, so --checks 1000 takes about 17 minutes.
import { fork, spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { changegroupV2 } from "../test/support/hgpush.ts";
import ownBroker from "../test/support/global-broker.ts";
import type { Harness } from "../test/support/harness.ts";
import type { UpstreamBacklog, UpstreamCounts, UpstreamReady } from "./upstream-process.ts";

// Before the harness is loaded: it reads TEST_AMQP_URL when it is.
const stopBroker = ownBroker();
if (stopBroker) process.once("exit", stopBroker);
const { spawnCommand, startHarness, TRY } = await import("../test/support/harness.ts");
const { measureFloor } = await import("./floor.ts");

const { values } = parseArgs({
  options: {
    pushes: { type: "string", default: "5000" },
    latency: { type: "string", default: "20" },
    commits: { type: "string", default: "4" },
    // e.g. --node-options=--max-old-space-size=128, to see how much of the RSS is a lazy GC
    "node-options": { type: "string", default: "" },
    only: { type: "string", default: "" },
    "head-concurrency": { type: "string", default: "" },
    "scrape-seconds": { type: "string", default: "30" },
    "scrape-rate": { type: "string", default: "100" },
    checks: { type: "string", default: "1000" },
    diffs: { type: "string", default: "500" },
    // The token drain and its floor again, one after the other, N times in all: one pair drifts by
    // ±0.3 s on these shared machines, the median of several does not.
    repeat: { type: "string", default: "1" },
  },
});
const pushes = Number(values.pushes);
const latencyMs = Number(values.latency);
const commits = Number(values.commits);
const REPO = "integration/autoland";

/** Peak resident set (VmHWM) of a running process, in MB; undefined once it has exited. */
function peakRssMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface Row {
  scenario: string;
  pushes: number;
  wallS: number;
  pushesPerS: number;
  requestsPerPush: number;
  hgRequests: number;
  phabRequests: number;
  peakRssMb: number;
  acked: number;
  leftQueued: number;
  exit: number | null;
}

/**
 * The fakes of hg and Phabricator for a drain, loaded with `pushes` pushes, in a process of their own
 * (bench/upstream-process.ts); the harness's env is pointed at them and its backlog published.
 */
async function outOfProcessUpstream(h: Harness, unmirroredFrom?: number): Promise<{ counts(): Promise<UpstreamCounts>; close(): Promise<void> }> {
  const time = Math.floor(Date.now() / 1000) - 3600;
  const backlog: UpstreamBacklog = {
    repository: REPO,
    callsign: "MOZILLACENTRAL",
    pushes,
    commits,
    time,
    latencyMs,
    ...(unmirroredFrom === undefined ? {} : { unmirroredFrom }),
  };
  const child = fork(new URL("./upstream-process.ts", import.meta.url).pathname, [JSON.stringify(backlog)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<UpstreamReady>((resolve, reject) => {
    child.once("message", (m) => resolve(m as UpstreamReady));
    child.once("exit", (code) => reject(new Error(`bench/upstream-process.ts exited with ${code} before it was ready`)));
  });
  h.env.HG_URL = ready.hgUrl;
  h.env.PHABRICATOR_URL = ready.phabUrl;
  // Token mode only where the harness was started with one (the HEAD drains run without).
  if (h.env.PHABRICATOR_API_TOKEN !== undefined) h.env.PHABRICATOR_API_TOKEN = ready.token;
  const messages = [];
  for (let id = 1; id <= pushes; id++) messages.push({ routingKey: REPO, body: changegroupV2(ready.hgUrl, REPO, [{ pushId: id, time }]) });
  await h.broker.publishMany(messages);
  return {
    counts: () =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(m as UpstreamCounts));
        child.send("counts");
      }),
    close: async () => {
      child.disconnect();
      await exited;
    },
  };
}

async function drain(scenario: string, token: boolean, unmirroredFrom?: number): Promise<Row> {
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], token, latencyMs: 0 });
  const upstream = await outOfProcessUpstream(h, unmirroredFrom);
  try {
    const started = performance.now();
    const child = spawnCommand("report-lag", ["--once"], {
      ...h.env,
      LOG_LEVEL: "info",
      ...(values["node-options"] ? { NODE_OPTIONS: values["node-options"] } : {}),
      ...(values["head-concurrency"] ? { PHABRICATOR_HEAD_CONCURRENCY: values["head-concurrency"] } : {}),
    });
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, peakRssMb(child.pid) ?? 0);
    }, 10);
    const { code } = await child.exited;
    const wallS = (performance.now() - started) / 1000;
    clearInterval(poll);
    const left = await h.broker.depth();
    const counts = await upstream.counts();
    return {
      scenario,
      pushes,
      wallS,
      pushesPerS: (pushes - left) / wallS,
      requestsPerPush: (counts.hg + counts.phab) / pushes,
      hgRequests: counts.hg,
      phabRequests: counts.phab,
      peakRssMb: peak,
      acked: pushes - left,
      leftQueued: left,
      exit: code,
    };
  } finally {
    await upstream.close();
    await h.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function portOf(child: ReturnType<typeof spawnCommand>): number {
  const line = child
    .stdout()
    .split("\n")
    .find((l) => l.includes('"msg":"listening"')) as string;
  return (JSON.parse(line) as { port: number }).port;
}

/** /metrics latency at a fixed request rate, with ten repositories whose series are all populated. */
/** Runs bench/scrape-load.ts in a process of its own and returns what it measured. */
async function scrapeLoad(args: string[]): Promise<{ latencies: number[]; errors: number; bytes: number }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "scrape-load.ts"), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`scrape-load exited with ${String(code)}`);
  return JSON.parse(out) as { latencies: number[]; errors: number; bytes: number };
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

/** The same load on a bare Node server answering as many bytes: what the machine and the client cost. */
async function bareServerFloor(bytes: number, rate: number): Promise<Latencies> {
  const server = spawn(process.execPath, [join(import.meta.dirname, "static-server.ts"), String(bytes)], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<string>((resolve) => server.stdout.setEncoding("utf8").once("data", (chunk: string) => resolve(chunk.trim())));
    const { latencies } = await scrapeLoad(["--url", `http://127.0.0.1:${port}/metrics`, "--rate", String(rate), "--seconds", values["scrape-seconds"]]);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN };
  } finally {
    server.kill();
  }
}

/** The metrics token of the scrape bench: 16 characters at least, as the service requires. */
const BENCH_TOKEN = "bench-token-of-16-characters";

async function scrape(): Promise<{ requests: number; p50: number; p99: number; max: number; errors: number; bytes: number; floor: Latencies }> {
  const repos = Array.from({ length: 10 }, (_, i) => `integration/repo-${i}=REPO${String.fromCharCode(65 + i)}`);
  const h = await startHarness({ repositories: repos, tryRepository: true, latencyMs: 0 });
  try {
    for (const [i, repo] of repos.entries()) {
      const path = repo.split("=")[0] as string;
      await h.push(path, 1, Math.floor(Date.now() / 1000) - 600, { mirrored: i % 2 === 0 });
      await h.push(path, 2, Math.floor(Date.now() / 1000) - 300);
    }
    // The pipeline metrics populated too: 20 reviews, 10 of them finished (one of each outcome every other).
    const created = Math.floor(Date.now() / 1000) - 1800;
    for (let i = 0; i < 20; i++) {
      const phid = `PHID-DIFF-scrape${i}`;
      h.phab.addDiff({ phid, id: 100 + i, dateCreated: created });
      const { targetPHIDs } = h.phab.addBuild(phid);
      if (i < 10) h.phab.finishTarget(targetPHIDs[0] as string, i % 2 === 0 ? "passed" : "failed", created + 900);
      await h.tryPush(1 + i, created + 300, phid);
    }
    await h.tryPush(21, created + 300);
    const watched = [`${h.broker.queue}-watched-a`, `${h.broker.queue}-watched-b`];
    for (const queue of watched) await h.broker.prepareQueue([`${queue}-key`], queue);
    const child = spawnCommand("report-lag", [], {
      ...h.env,
      LOG_LEVEL: "info",
      METRICS_TOKEN: BENCH_TOKEN,
      QUEUE_DEPTH_QUEUES: watched.join(","),
    });
    await child.waitFor(/"msg":"code-review pipeline check done"/);
    const rate = Number(values["scrape-rate"]);
    const total = Math.round(Number(values["scrape-seconds"]) * rate);
    const load = await scrapeLoad([
      "--url",
      `http://127.0.0.1:${portOf(child)}/metrics`,
      "--token",
      BENCH_TOKEN,
      "--rate",
      String(rate),
      "--seconds",
      values["scrape-seconds"],
      "--expect",
      "phabmon_replication_lag_seconds",
      "--expect",
      'phabmon_review_duration_seconds_count{outcome="failed"} 5',
    ]);
    child.kill("SIGTERM");
    await child.exited;
    const { latencies, errors, bytes } = load;
    const floor = await bareServerFloor(bytes, rate);
    return { requests: total, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN, errors, bytes, floor };
  } finally {
    await h.close();
  }
}

interface PipelineFigures {
  diffs: number;
  burst: { conduitCalls: number; hgRequests: number; ms: number };
  inFlight: { conduitCalls: number; ms: number };
}

/** The pipeline check of the running service: the one that reads a burst of bot Try pushes, and the next, with them all in flight. */
async function pipeline(): Promise<PipelineFigures> {
  const diffs = Number(values.diffs);
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], tryRepository: true, latencyMs: 0 });
  try {
    const child = spawnCommand("report-lag", [], { ...h.env, LOG_LEVEL: "info", CHECK_SCHEDULE: "*/5 * * * * *" });
    const done = () =>
      child
        .stdout()
        .split("\n")
        .filter((l) => l.includes('"msg":"code-review pipeline check done"'))
        .map((l) => JSON.parse(l) as { durationMs: number; tryPushes: { codeReview: number }; inFlight: number });
    await child.waitFor(/"msg":"code-review pipeline check done"/);
    // Created after start-up, so that the service learns of them from Try, not by reading them back.
    const created = Math.floor(Date.now() / 1000) - 1200;
    const messages = [];
    for (let i = 0; i < diffs; i++) {
      const phid = `PHID-DIFF-bench${i}`;
      h.phab.addDiff({ phid, id: 1000 + i, dateCreated: created });
      h.phab.addBuild(phid);
      await h.tryPush(1000 + i, created + 300, phid, { publish: false });
      messages.push({ routingKey: TRY, body: changegroupV2(h.hg.url, TRY, [{ pushId: 1000 + i, time: created + 300 }]) });
    }
    h.hg.latencyMs = latencyMs;
    h.phab.latencyMs = latencyMs;
    // Published just after a check, so that the next check reads them all.
    await h.broker.publishMany(messages);
    const seen = done().length;
    // Conduit calls and hg requests counted at each check's end; the replication check before it makes none (its queue is empty).
    const marks: Array<{ calls: number; hg: number }> = [{ calls: h.phab.calls(), hg: h.hg.requests.length }];
    while (done().length < seen + 3) {
      if (done().length > seen + marks.length - 1) marks.push({ calls: h.phab.calls(), hg: h.hg.requests.length });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGTERM");
    await child.exited;
    const checks = done().slice(seen);
    const burstIndex = checks.findIndex((c) => c.tryPushes.codeReview === diffs);
    const at = (i: number) => marks[i] ?? { calls: Number.NaN, hg: Number.NaN };
    return {
      diffs,
      burst: {
        conduitCalls: at(burstIndex + 1).calls - at(burstIndex).calls,
        hgRequests: at(burstIndex + 1).hg - at(burstIndex).hg,
        ms: checks[burstIndex]?.durationMs ?? Number.NaN,
      },
      inFlight: { conduitCalls: at(burstIndex + 2).calls - at(burstIndex + 1).calls, ms: checks[burstIndex + 1]?.durationMs ?? Number.NaN },
    };
  } finally {
    await h.close();
  }
}

let heapUsedMb = Number.NaN;
let heapTotalMb = Number.NaN;

/** RSS after many checks once a second with a push every few seconds. */
interface SteadyState {
  checks: number;
  rssStartMb: number;
  rssAt1000Mb: number;
  /** RSS at each hundredth check: the issue's "flat after the first hundred" is read off this. */
  rssEveryHundredMb: number[];
  rssEndMb: number;
  anonMb: number;
  fileMb: number;
  peakMb: number;
  minutes: number;
  fds: { start: number; peak: number; end: number };
}

async function steady(): Promise<SteadyState> {
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], token: true, latencyMs });
  const target = Number(values.checks);
  try {
    const child = spawnCommand("report-lag", [], {
      ...h.env,
      LOG_LEVEL: "info",
      CHECK_SCHEDULE: "* * * * * *",
      PORT: "0",
      // glibc's malloc arenas are a usual suspect for RSS that grows while the heap does not.
      ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
      ...(values["node-options"] ? { NODE_OPTIONS: values["node-options"] } : {}),
    });
    const done = () => child.stdout().split('"msg":"check done"').length - 1;
    const started = performance.now();
    const status = (field: "VmRSS" | "RssAnon" | "RssFile") => {
      const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      return match ? Number(match[1]) / 1024 : Number.NaN;
    };
    const rss = () => status("VmRSS");
    const openFds = () => readdirSync(`/proc/${child.pid}/fd`).length;
    await child.waitFor(/"msg":"check done"/);
    const rssStartMb = rss();
    const fds = { start: openFds(), peak: 0, end: 0 };
    fds.peak = fds.start;
    let pushId = 1;
    let checks = 0;
    let rssAt1000Mb = Number.NaN;
    const rssEveryHundredMb: number[] = [];
    while (checks < target) {
      if (checks >= 1000 && Number.isNaN(rssAt1000Mb)) rssAt1000Mb = rss();
      if (checks >= (rssEveryHundredMb.length + 1) * 100) rssEveryHundredMb.push(rss());
      fds.peak = Math.max(fds.peak, openFds());
      await h.push(REPO, pushId, Math.floor(Date.now() / 1000), { mirrored: true });
      pushId++;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      checks = done();
    }
    const rssEndMb = rss();
    // File-backed pages are mostly the node binary's own code, clean and shared; anonymous is the process's.
    const anonMb = status("RssAnon");
    const fileMb = status("RssFile");
    fds.end = openFds();
    const peakMb = peakRssMb(child.pid) ?? Number.NaN;
    // Whether RSS growth is live data or heap V8 keeps in reserve: its own figures, from /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${portOf(child)}/metrics`)).text();
    const heap = (name: string) =>
      Number(
        /^nodejs_heap_size_(?:used|total)_bytes (\S+)$/m.exec(
          metrics
            .split("\n")
            .filter((l) => l.startsWith(name))
            .join("\n"),
        )?.[1],
      ) /
      2 ** 20;
    heapUsedMb = heap("nodejs_heap_size_used_bytes");
    heapTotalMb = heap("nodejs_heap_size_total_bytes");
    child.kill("SIGTERM");
    await child.exited;
    return { checks, rssStartMb, rssAt1000Mb, rssEveryHundredMb, rssEndMb, anonMb, fileMb, peakMb, minutes: (performance.now() - started) / 60_000, fds };
  } finally {
    await h.close();
  }
}

async function startup(): Promise<{ listeningS: number; firstCheckS: number }> {
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], token: true, latencyMs });
  try {
    await h.push(REPO, 1, Math.floor(Date.now() / 1000) - 60);
    const started = performance.now();
    const child = spawnCommand("report-lag", [], { ...h.env, LOG_LEVEL: "info" });
    await child.waitFor(/"msg":"listening"/);
    const port = portOf(child);
    let listeningS = Number.NaN;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/__lbheartbeat__`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        listeningS = (performance.now() - started) / 1000;
        break;
      }
    }
    await child.waitFor(/"msg":"check done"/);
    const firstCheckS = (performance.now() - started) / 1000;
    child.kill("SIGTERM");
    await child.exited;
    return { listeningS, firstCheckS };
  } finally {
    await h.close();
  }
}

const lagFrom = Math.max(1, pushes - Math.floor(pushes / 5) + 1);
const scenarios: Array<[string, boolean, number | undefined, number]> = [
  ["drain, Conduit token", true, undefined, 0],
  ["drain, no token (commit pages)", false, undefined, 0],
  [`lagging from push ${lagFrom}, token`, true, lagFrom, pushes - lagFrom + 1],
  [`lagging from push ${lagFrom}, no token`, false, lagFrom, pushes - lagFrom + 1],
];
const chosen = ["steady", "pipeline", "scrape"].includes(values.only)
  ? []
  : scenarios.filter(([, token]) => values.only === "" || (values.only === "token") === token);
const rows: Row[] = [];
for (const [name, token, from] of chosen) rows.push(await drain(name, token, from));

/** Right after the drains: the floor of the token drain, on the same backlog at the same latency. */
async function floorOfDrain() {
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], token: true, latencyMs: 0 });
  const upstream = await outOfProcessUpstream(h);
  try {
    return await measureFloor(h, { repository: REPO, pushes, commits });
  } finally {
    await upstream.close();
    await h.close();
  }
}
const tokenDrain = rows.find((r) => r.scenario === "drain, Conduit token");
const floor = tokenDrain === undefined ? undefined : await floorOfDrain();
/** Each pair's drain over its floor, the first pair's included. */
const ratios: number[] = tokenDrain && floor ? [tokenDrain.wallS / floor.totalS] : [];
for (let i = 1; tokenDrain && i < Number(values.repeat); i++) {
  const again = await drain("drain, Conduit token", true);
  ratios.push(again.wallS / (await floorOfDrain()).totalS);
}
const everything = values.only === "";
const start = everything || values.only === "scrape" ? await startup() : { listeningS: Number.NaN, firstCheckS: Number.NaN };
const scraped =
  everything || values.only === "scrape"
    ? await scrape()
    : { requests: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, errors: 0, bytes: 0, floor: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN } };
const pipelined = everything || values.only === "pipeline" ? await pipeline() : undefined;
const steadyState: SteadyState =
  everything || values.only === "steady"
    ? await steady()
    : {
        checks: 0,
        rssStartMb: Number.NaN,
        rssAt1000Mb: Number.NaN,
        rssEveryHundredMb: [],
        rssEndMb: Number.NaN,
        anonMb: Number.NaN,
        fileMb: Number.NaN,
        peakMb: Number.NaN,
        minutes: 0,
        fds: { start: Number.NaN, peak: Number.NaN, end: Number.NaN },
      };

const fmt = (n: number, digits = 2) => n.toFixed(digits);
console.log(`\nphabricator-repo-monitor benchmark: ${pushes} pushes x ${commits} commits, upstream latency ${latencyMs} ms per request`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version} (bench driver)\n`);
console.log("| scenario | wall s | pushes acked/s | upstream req/push | hg req | phab req | peak RSS MB | acked | left queued | exit |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${fmt(r.wallS)} | ${fmt(r.pushesPerS, 0)} | ${fmt(r.requestsPerPush, 3)} | ${r.hgRequests} | ${r.phabRequests} | ${fmt(r.peakRssMb, 0)} | ${r.acked} | ${r.leftQueued} | ${r.exit} |`,
  );
}
if (floor && tokenDrain) {
  console.log(
    `\nfloor of the token drain: node -e 0 ${fmt(floor.nodeStartS)} s + broker hands over and takes the acks of ${pushes} messages ${fmt(floor.brokerS)} s + unavoidable upstream requests ${fmt(floor.upstreamS)} s = ${fmt(floor.totalS)} s; the drain took ${fmt(tokenDrain.wallS)} s, ${fmt(tokenDrain.wallS / floor.totalS)}x the floor (target 1.3x)`,
  );
}
if (ratios.length > 1) {
  const sorted = [...ratios].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1
      ? (sorted[(sorted.length - 1) / 2] as number)
      : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
  console.log(
    `${ratios.length} drains, each over the floor measured right after it: ${ratios.map((r) => `${fmt(r)}x`).join(", ")}; median ${fmt(median)}x (target 1.3x)`,
  );
}
console.log(`\nstart: /__lbheartbeat__ answers after ${fmt(start.listeningS)} s; first check done after ${fmt(start.firstCheckS)} s`);
console.log(
  `scrape: ${scraped.requests} GET /metrics at ${values["scrape-rate"]}/s, 10 repositories (${scraped.bytes} bytes): p50 ${fmt(scraped.p50)} ms, p99 ${fmt(scraped.p99)} ms, max ${fmt(scraped.max)} ms, ${scraped.errors} errors; ` +
    `the same load on a bare Node server answering as many bytes: p50 ${fmt(scraped.floor.p50)} ms, p99 ${fmt(scraped.floor.p99)} ms, max ${fmt(scraped.floor.max)} ms`,
);
if (pipelined) {
  console.log(
    `pipeline: the check that read ${pipelined.diffs} code-review Try pushes: ${pipelined.burst.conduitCalls} Conduit calls, ${pipelined.burst.hgRequests} hg requests, ${pipelined.burst.ms} ms; the next, with ${pipelined.diffs} reviews in flight: ${pipelined.inFlight.conduitCalls} Conduit calls, ${pipelined.inFlight.ms} ms`,
  );
}
console.log(
  `steady state: ${steadyState.checks} checks (one a second, a push every 3 s, ${fmt(steadyState.minutes, 1)} min): RSS ${fmt(steadyState.rssStartMb, 0)} MB after start, ${Number.isNaN(steadyState.rssAt1000Mb) ? "" : `${fmt(steadyState.rssAt1000Mb, 0)} MB after 1,000 checks, `}${fmt(steadyState.rssEndMb, 0)} MB at the end (${fmt(steadyState.anonMb, 0)} MB anonymous, ${fmt(steadyState.fileMb, 0)} MB file-backed), peak ${fmt(steadyState.peakMb, 0)} MB; open fds ${steadyState.fds.start} → ${steadyState.fds.end} (peak ${steadyState.fds.peak}); V8 heap ${fmt(heapUsedMb, 0)} MB used of ${fmt(heapTotalMb, 0)} MB; RSS every 100 checks: ${steadyState.rssEveryHundredMb.map((mb) => fmt(mb, 0)).join(", ") || "none"} MB\n`,
);

const wrong = rows.filter((r, i) => r.exit !== 0 || r.leftQueued !== chosen[i]?.[3]);
if (scraped.errors > 0) wrong.push({ scenario: "scrape" } as Row);
if (wrong.length > 0) {
  console.error(`benchmark runs ended wrongly: ${wrong.map((r) => r.scenario).join(", ")}`);
  process.exit(1);
}
process.exit(0);
