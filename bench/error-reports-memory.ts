// What SENTRY_DSN costs in memory: a process that loads the service's modules (from src/, type-stripped:
// bin/'s bundle exports nothing to call; the difference between the two cases is what is measured),
// with Sentry off (the SDK is never imported) and on (imported and initialised, errors only, as
// src/app/error-reports.ts does), after a full GC. Runs each case in a fresh process, five times,
// and prints the medians.   scripts/node bench/error-reports-memory.ts
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const RUNS = 5;

const child = (on: boolean) => `
const { createSentryReporter, NO_REPORTS } = await import(${JSON.stringify(join(ROOT, "src/app/error-reports.ts"))});
await import(${JSON.stringify(join(ROOT, "src/app/service.ts"))});
const pino = (await import("pino")).default;
const reporter = ${on} ? await createSentryReporter({ dsn: "http://key@127.0.0.1:9/1", release: "bench", environment: undefined, secrets: [], log: pino({ level: "silent" }) }) : NO_REPORTS;
void reporter;
for (let i = 0; i < 3; i++) globalThis.gc();
await new Promise((r) => setTimeout(r, 200));
globalThis.gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: m.rss, heap: m.heapUsed }));
process.exit(0);
`;

function measure(on: boolean): { rss: number; heap: number } {
  const runs = Array.from(
    { length: RUNS },
    () =>
      JSON.parse(execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", child(on)], { cwd: ROOT, encoding: "utf8" })) as {
        rss: number;
        heap: number;
      },
  );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { rss: median(runs.map((r) => r.rss)), heap: median(runs.map((r) => r.heap)) };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const off = measure(false);
const on = measure(true);
console.log(`SENTRY_DSN unset: RSS ${mb(off.rss)}, V8 heap ${mb(off.heap)} (the SDK is not loaded)`);
console.log(`SENTRY_DSN set:   RSS ${mb(on.rss)}, V8 heap ${mb(on.heap)}`);
console.log(`cost of Sentry:   RSS +${mb(on.rss - off.rss)}, V8 heap +${mb(on.heap - off.heap)} (medians of ${RUNS} fresh processes each)`);
