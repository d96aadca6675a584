// Keeps `npm run bench` from rotting: a small run must finish and print its table. It times nothing.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "./support/harness.ts";

it("npm run bench works on a small backlog", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["bench/run.ts", "--pushes", "200", "--latency", "0", "--scrape-seconds", "1", "--checks", "5", "--diffs", "20"],
    { cwd: ROOT, timeout: 60_000 },
  );
  expect(stdout).toMatch(/^\| drain, Conduit token \| [\d.]+ \| \d+ \| 0\.050 \| 1 \| 9 \| \d+ \| 200 \| 0 \| 0 \|$/m);
  expect(stdout).toMatch(/^\| drain, no token \(commit pages\) \| [\d.]+ \| \d+ \| 4\.010 \| 1 \| 801 \| \d+ \| 200 \| 0 \| 0 \|$/m);
  expect(stdout).toMatch(/^\| lagging from push 161, token \| .* \| 160 \| 40 \| 0 \|$/m);
  expect(stdout).toMatch(
    /^floor of the token drain: node -e 0 [\d.]+ s \+ broker hands over and takes the acks of 200 messages [\d.]+ s \+ unavoidable upstream requests [\d.]+ s = [\d.]+ s; the drain took [\d.]+ s, [\d.]+x the floor/m,
  );
  expect(stdout).toMatch(/start: \/__lbheartbeat__ answers after [\d.]+ s; first check done after [\d.]+ s/);
  expect(stdout).toMatch(
    /scrape: 100 GET \/metrics at 100\/s, 10 repositories \(\d+ bytes\): p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms, 0 errors; the same load on a bare Node server answering as many bytes: p50 [\d.]+ ms, p99 [\d.]+ ms/,
  );
  expect(stdout).toMatch(
    /^pipeline: the check that read 20 code-review Try pushes: \d+ Conduit calls, 21 hg requests, \d+ ms; the next, with 20 reviews in flight: 2 Conduit calls, \d+ ms$/m,
  );
  expect(stdout).toMatch(/steady state: \d+ checks \(one a second.*MB at the end \(\d+ MB anonymous, \d+ MB file-backed\).*open fds \d+ → \d+ \(peak \d+\)/);
}, 90_000);
