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
  const left = (await h.broker.peek()).map((b) => (JSON.parse(b) as { payload: { data: { pushlog_pushes: Array<{ pushid: number }> } } }).payload.data.pushlog_pushes[0]?.pushid);
  expect(left).toEqual(Array.from({ length: 101 }, (_, i) => 300 + i));
});
