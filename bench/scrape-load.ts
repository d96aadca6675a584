// The scrape load of `npm run bench`, in a process of its own as Prometheus is: timed here, the
// latencies hold nothing of the bench's own work (the fakes, the broker client, their garbage).
//   node bench/scrape-load.ts --url URL --token T --rate 100 --seconds 30 [--warmup 50] --expect TEXT…
// Prints one JSON line: { latencies (sorted, ms), errors, bytes }.
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string", default: "" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "30" },
    expect: { type: "string", multiple: true, default: [] },
    warmup: { type: "string", default: "50" },
  },
});
if (!values.url) throw new Error("--url is required");
const url = values.url;
const headers = values.token ? { authorization: `Bearer ${values.token}` } : {};
const rate = Number(values.rate);
const total = Math.round(Number(values.seconds) * rate);

// Untimed first: the first requests of a fresh process pay for loading and compiling its HTTP client
// (20–60 ms here), and a Prometheus server scraping for weeks never does.
for (let i = 0; i < Number(values.warmup); i++) await (await fetch(url, { headers })).text();

const latencies: number[] = [];
let errors = 0;
let bytes = 0;
const inflight: Array<Promise<void>> = [];
const started = performance.now();
// Open loop: request i is sent at its due time whether or not the earlier ones have answered.
for (let i = 0; i < total; i++) {
  const wait = started + (i * 1000) / rate - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const t0 = performance.now();
  inflight.push(
    fetch(url, { headers }).then(
      async (res) => {
        const text = await res.text();
        latencies.push(performance.now() - t0);
        bytes = text.length;
        if (res.status !== 200 || !values.expect.every((e) => text.includes(e))) errors++;
      },
      () => {
        errors++;
      },
    ),
  );
}
await Promise.all(inflight);
latencies.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ latencies, errors, bytes })}\n`);
