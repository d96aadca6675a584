// Soak: 2,000 checks with steady traffic against the real broker and the local fakes. The checks run
// back to back (the schedule cannot fire more than once a second, which would take 33 minutes); the
// process's open file descriptors and RSS must stay flat. `npm run bench` measures the same on the
// real process at one check a second.
import { readdirSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { readConfig } from "../src/config/config.ts";
import { createLogger } from "../src/app/logger.ts";
import { buildApp } from "../src/app/build-app.ts";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const CHECKS = 2000;

const openFds = () => readdirSync("/proc/self/fd").length;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
// RSS alone cannot tell a leak from a heap V8 has not bothered to collect: measure the live heap
// after a full collection as well.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const liveHeapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

it(`${CHECKS} checks with steady traffic keep file descriptors and memory flat`, async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const config = readConfig({ ...h.env, CHECK_SCHEDULE: "* * * * * *" });
  const log = createLogger({ level: "warn", destination: new Writable({ write: (_c, _e, done) => done() }) });
  const app = buildApp({ config, log, version: { source: "", version: "0", commit: "soak", build: "local" }, readOnly: false, drainIdleMs: 200 });
  app.pulse.keepConnected();
  // One signal for every check, as the service has: anything a check hangs on it must come off again.
  const lifetime = new AbortController();

  let pushId = 1;
  let verified = 0;
  const samples: Array<{ fds: number; rss: number; heap: number }> = [];
  try {
    for (let check = 1; check <= CHECKS; check++) {
      if (check % 2 === 0) await h.push(AUTOLAND, pushId++, Math.floor(Date.now() / 1000));
      const report = await app.checks[0]!.run(lifetime.signal);
      const repositories = report.json as Array<{ verified: number }>;
      if (!report.ok) throw new Error(`check ${check} failed: ${JSON.stringify(repositories)}`);
      verified += repositories[0]?.verified ?? 0;
      if (check % 100 === 0) samples.push({ fds: openFds(), rss: rssMb(), heap: liveHeapMb() });
      if (check % 500 === 0) await h.broker.depth(); // the test's own channel stays healthy too
    }
  } finally {
    await app.close();
  }

  // After the first 200 checks (warm-up), nothing may keep growing.
  const [start, ...rest] = samples.slice(1);
  const end = samples.at(-1)!;
  const peak = Math.max(...samples.slice(1).map((s) => s.rss));
  console.log(
    `soak: ${CHECKS} checks, ${verified} pushes verified; fds ${start!.fds} -> ${end.fds} (max ${Math.max(...rest.map((s) => s.fds))}); ` +
      `RSS ${start!.rss.toFixed(0)} MB -> ${end.rss.toFixed(0)} MB (peak ${peak.toFixed(0)} MB); ` +
      `live heap ${start!.heap.toFixed(1)} MB -> ${end.heap.toFixed(1)} MB`,
  );
  expect(verified).toBe(pushId - 1);
  expect(end.fds - start!.fds).toBeLessThanOrEqual(2);
  expect(Math.max(...rest.map((s) => s.fds)) - start!.fds).toBeLessThanOrEqual(4);
  // The live heap is what a leak grows. RSS here follows how much heap V8 chooses to reserve in the
  // test worker (it stepped from 94 to 158 MB once with the live heap at 26 MB), so it is reported,
  // and the process-level figure comes from the benchmark's steady-state run.
  // About 3 MB of growth is the fakes in this process remembering 1,000 pushes; the per-check
  // listener leak fixed earlier showed here as 8 MB.
  expect(end.heap - start!.heap).toBeLessThan(4);
}, 300_000);
