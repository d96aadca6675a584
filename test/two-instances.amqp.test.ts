// Heroku starts the new dyno before the old one stops, so for a while two instances share the queue.
import { expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

it("two instances on one queue: no crash, nothing lost, and no false zero from the one that sees an empty queue", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, latencyMs: 300 });
  await h.backlog(AUTOLAND, 1, 400, Math.floor(Date.now() / 1000) - 3600, { unmirroredFrom: 300 });

  const first = await h.start([]);
  await first.waitForLog("checked a range of pushes"); // the first instance holds every message now
  const second = await h.start([]);
  const skipped = await second.waitForLog("check failed");
  expect(skipped.error).toMatch(/another consumer is reading/);
  const text = await (await fetch(`${second.url}/metrics`)).text();
  expect(text).toMatch(/^phabmon_replication_lag_seconds\{repository="integration\/autoland",callsign="MOZILLACENTRAL"\} nan$/im);

  const done = await first.waitForLog("check done");
  expect(done).toMatchObject({ verified: 299, pending: 101 });
  expect(Number(done.lagSeconds)).toBeGreaterThanOrEqual(3600);

  first.signal("SIGTERM");
  second.signal("SIGTERM");
  expect((await first.finished).code).toBe(0);
  expect((await second.finished).code).toBe(0);
  const left = (await h.broker.peek()).map(
    (b) => (JSON.parse(b) as { payload: { data: { pushlog_pushes: Array<{ pushid: number }> } } }).payload.data.pushlog_pushes[0]?.pushid,
  );
  expect(left).toEqual(Array.from({ length: 101 }, (_, i) => 300 + i));
});

it("two instances on the Try queue: the one that sees another consumer hands every Try message back and reports the pipeline as unknown", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], tryRepository: true });
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 3; i++) {
    h.phab.addDiff({ phid: `PHID-DIFF-two${i}`, id: 10 + i, dateCreated: now - 900 });
    h.phab.addBuild(`PHID-DIFF-two${i}`);
    await h.tryPush(20 + i, now - 800, `PHID-DIFF-two${i}`);
  }
  // The first instance's read of the announced Try pushes (full=1, not the tips-only read of
  // recovery) never answers, so it holds every Try message while the second checks.
  h.hg.hangPaths = /^\/try\/json-pushes\?version=2&full=1&startID/;
  const first = await h.start([]);
  await expect.poll(() => h.hg.requests.some((r) => /\/try\/json-pushes\?version=2&full=1&startID/.test(r)), { timeout: 20_000 }).toBe(true);

  const second = await h.start([]);
  const failed = await second.waitForLog("code-review pipeline check failed");
  expect(failed.errors).toEqual([expect.stringMatching(/^reading Try pushes: another consumer is reading .*\/try \(1\); everything was handed back$/)]);
  // It did not read back, poll or guess: the in-flight gauges are unknown, not a quiet zero.
  expect(second.logs.some((l) => l.component === "pipeline" && /read back the reviews/.test(String(l.msg)))).toBe(false);
  const text = await (await fetch(`${second.url}/metrics`)).text();
  expect(text).toMatch(/^phabmon_reviews_in_flight nan$/im);
  expect(text).toMatch(/^phabmon_oldest_review_in_flight_seconds nan$/im);
  const status = (await (await fetch(`${second.url}/status`)).json()) as { pipeline: { reviewsInFlight: unknown } };
  expect(status.pipeline.reviewsInFlight).toBeNull();

  first.signal("SIGTERM");
  second.signal("SIGTERM");
  expect((await first.finished).code).toBe(0);
  expect((await second.finished).code).toBe(0);
  // Neither acked a Try message: all three wait for a whole read.
  expect(await h.broker.depth(h.broker.tryQueue)).toBe(3);
}, 60_000);
