// PulseGuardian deletes a queue that grows past 8,000 messages; what is published while it is gone
// is lost. The service must re-declare and re-bind it, and find the lost pushes in the pushlog.
import { expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import type { Harness, StartedService } from "./support/harness.ts";
import { scrapeSample } from "./support/scrape.ts";
import { changegroupV2, commitsOf } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

async function deleteQueue(h: Harness): Promise<void> {
  const ch = await h.broker.model.createChannel();
  await ch.deleteQueue(h.broker.queue);
  await ch.close();
}

const metric = async (svc: StartedService, series: string) => Number(await scrapeSample(svc.url, series));

it("deleted between checks: re-declared and re-bound, the pushes published meanwhile found in the pushlog and checked", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const t = Math.floor(Date.now() / 1000) - 3600;
  await h.push(AUTOLAND, 1, t);
  const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
  await svc.waitForLog("check done");

  await deleteQueue(h);
  // Published while the queue is gone: nothing receives them.
  await h.push(AUTOLAND, 2, t + 10);
  await h.push(AUTOLAND, 3, t + 20);
  await h.push(AUTOLAND, 4, t + 30, { mirrored: false });

  const found = await svc.waitForLog("found pushes in the pushlog that never arrived over Pulse");
  expect(found.pushIds).toEqual([2, 3, 4]);
  const after = await svc.waitForLog("check done", svc.logs.filter((l) => l.msg === "check done").length + 1);
  expect(after).toMatchObject({ verified: 2, pending: 1, stoppedAt: { pushId: 4 } });
  expect(await metric(svc, `phabmon_pushlog_gap_pushes_total{repository="${AUTOLAND}"}`)).toBe(3);
  expect(await metric(svc, `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBeGreaterThanOrEqual(3570);

  // The queue is bound again: a new push arrives, and waits behind the held one.
  await h.push(AUTOLAND, 5, t + 40);
  const checks = svc.logs.filter((l) => l.msg === "check done").length;
  await svc.waitForLog("check done", checks + 1);
  h.phab.mirror("MOZILLACENTRAL", commitsOf(AUTOLAND, 4));
  await svc.waitForLog("check done", checks + 3);
  expect(await metric(svc, `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBe(0);
  expect(await metric(svc, `phabmon_pushes_verified_total{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBe(5);

  svc.signal("SIGTERM");
  expect((await svc.finished).code).toBe(0);
  expect(await h.broker.depth()).toBe(0);
}, 60_000);

it("deleted during a check: the cancel is noticed, and the pushes that check read are still checked", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true, latencyMs: 300 });
  await h.backlog(AUTOLAND, 1, 400, Math.floor(Date.now() / 1000) - 600, { unmirroredFrom: 300 });
  const svc = await h.start([], { CHECK_SCHEDULE: "*/3 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "2" });
  await svc.waitForLog("checked a range of pushes");
  await deleteQueue(h);
  await svc.waitForLog("the broker cancelled our consumer (queue deleted?)");

  for (let id = 300; id <= 400; id++) h.phab.mirror("MOZILLACENTRAL", commitsOf(AUTOLAND, id));
  // The next push arrives through the re-created queue and is checked after the remembered ones.
  await svc.waitForLog("our queue was gone (deleted by PulseGuardian?); declaring it again and looking for lost pushes in the pushlog");
  h.hg.addPush(AUTOLAND, { pushId: 401, date: Math.floor(Date.now() / 1000), user: "u", changesets: commitsOf(AUTOLAND, 401) });
  h.phab.mirror("MOZILLACENTRAL", commitsOf(AUTOLAND, 401));
  await h.broker.publish(AUTOLAND, changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 401, time: Math.floor(Date.now() / 1000) }]));

  const deadline = Date.now() + 30_000;
  while ((await metric(svc, `phabmon_pushes_verified_total{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)) < 401) {
    if (Date.now() > deadline) throw new Error(`not all verified: ${JSON.stringify(svc.logs.filter((l) => String(l.msg).startsWith("check")).slice(-5))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(await metric(svc, "phabmon_pulse_consumer_cancels_total")).toBe(1);
  expect(await metric(svc, `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBe(0);

  svc.signal("SIGTERM");
  expect((await svc.finished).code).toBe(0);
  expect(await h.broker.depth()).toBe(0);
}, 60_000);
