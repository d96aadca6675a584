// `npm run bench`: the real service (bin/report-lag as a child process) against the local RabbitMQ
// and local fakes of hg and Phabricator that answer after a set latency. Prints a table.
//   node bench/run.ts [--pushes 5000] [--latency 20] [--commits 4] [--node-options=…] [--only token|head]
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { spawnCommand, startHarness } from "../test/support/harness.ts";

const { values } = parseArgs({
  options: {
    pushes: { type: "string", default: "5000" },
    latency: { type: "string", default: "20" },
    commits: { type: "string", default: "4" },
    // e.g. --node-options=--max-old-space-size=128, to see how much of the RSS is a lazy GC
    "node-options": { type: "string", default: "" },
    only: { type: "string", default: "" },
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

async function drain(scenario: string, token: boolean, unmirroredFrom?: number): Promise<Row> {
  const h = await startHarness({ repositories: [`${REPO}=MOZILLACENTRAL`], token, latencyMs: 0 });
  try {
    await h.backlog(REPO, 1, pushes, Math.floor(Date.now() / 1000) - 3600, { commits, ...(unmirroredFrom === undefined ? {} : { unmirroredFrom }) });
    h.hg.latencyMs = latencyMs;
    h.phab.latencyMs = latencyMs;
    const started = performance.now();
    const child = spawnCommand("report-lag", ["--once"], { ...h.env, LOG_LEVEL: "info", ...(values["node-options"] ? { NODE_OPTIONS: values["node-options"] } : {}) });
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, peakRssMb(child.pid) ?? 0);
    }, 10);
    const { code } = await child.exited;
    const wallS = (performance.now() - started) / 1000;
    clearInterval(poll);
    const left = await h.broker.depth();
    const requests = h.hg.requests.length + h.phab.requests.length;
    return {
      scenario,
      pushes,
      wallS,
      pushesPerS: (pushes - left) / wallS,
      requestsPerPush: requests / pushes,
      hgRequests: h.hg.requests.length,
      phabRequests: h.phab.requests.length,
      peakRssMb: peak,
      acked: pushes - left,
      leftQueued: left,
      exit: code,
    };
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
    const port = (JSON.parse(child.stdout().split("\n").find((l) => l.includes('"msg":"listening"')) as string) as { port: number }).port;
    let listeningS = Number.NaN;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/__lbheartbeat__`).then((r) => r.ok, () => false);
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
  ["drain, no token (HEAD)", false, undefined, 0],
  [`lagging from push ${lagFrom}, token`, true, lagFrom, pushes - lagFrom + 1],
  [`lagging from push ${lagFrom}, no token`, false, lagFrom, pushes - lagFrom + 1],
];
const chosen = scenarios.filter(([, token]) => values.only === "" || (values.only === "token") === token);
const rows: Row[] = [];
for (const [name, token, from] of chosen) rows.push(await drain(name, token, from));
const start = await startup();

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
console.log(`\nstart: /__lbheartbeat__ answers after ${fmt(start.listeningS)} s; first check done after ${fmt(start.firstCheckS)} s\n`);

const wrong = rows.filter((r, i) => r.exit !== 0 || r.leftQueued !== chosen[i]?.[3]);
if (wrong.length > 0) {
  console.error(`benchmark runs ended wrongly: ${wrong.map((r) => r.scenario).join(", ")}`);
  process.exit(1);
}
process.exit(0);
