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
  // The end of the check that found them: the first "check done" logged after that line.
  const before = svc.logs.slice(0, svc.logs.indexOf(found)).filter((l) => l.msg === "check done").length;
  const after = await svc.waitForLog("check done", before + 1);
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

it("deleted while the mirror is stuck: the unverified push keeps the lag, and is verified once mirrored", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const t = Math.floor(Date.now() / 1000) - 3600;
  const stuck = await h.push(AUTOLAND, 1, t, { mirrored: false });
  await h.push(AUTOLAND, 2, t + 10);
  const svc = await h.start([], { CHECK_SCHEDULE: "*/2 * * * * *", UPSTREAM_TIMEOUT_SECONDS: "1" });
  expect(await svc.waitForLog("check done")).toMatchObject({ pending: 2, stoppedAt: { pushId: 1 } });

  // PulseGuardian deletes the queue, with push 1 and 2's messages in it.
  await deleteQueue(h);
  const gone = await svc.waitForLog("our queue was gone (deleted by PulseGuardian?); declaring it again and looking for lost pushes in the pushlog");
  // The end of the check that noticed: the first "check done" logged after that line.
  const before = svc.logs.slice(0, svc.logs.indexOf(gone)).filter((l) => l.msg === "check done").length;
  const after = await svc.waitForLog("check done", before + 1);
  expect(after).toMatchObject({ pending: 2, stoppedAt: { pushId: 1 } });
  const lag = await metric(svc, `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`);
  expect(lag).toBeGreaterThanOrEqual(3600);

  h.phab.mirror("MOZILLACENTRAL", stuck);
  const deadline = Date.now() + 20_000;
  while ((await metric(svc, `phabmon_pushes_verified_total{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)) < 2 && Date.now() < deadline) {
    await svc.waitForLog("check done", svc.logs.filter((l) => l.msg === "check done").length + 1);
  }
  expect(await metric(svc, `phabmon_pushes_verified_total{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBe(2);
  expect(await metric(svc, `phabmon_replication_lag_seconds{repository="${AUTOLAND}",callsign="MOZILLACENTRAL"}`)).toBe(0);
  svc.signal();
  await svc.finished;
});

it("a queue missing when the service starts: the last day of the pushlog is read, so a stuck push still holds the lag", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const t = Math.floor(Date.now() / 1000) - 3600;
  await h.push(AUTOLAND, 1, t - 100, { publish: false });
  await h.push(AUTOLAND, 2, t, { mirrored: false, publish: false });
  await deleteQueue(h);
  const svc = await h.start([]);
  await svc.waitForLog("our queue did not exist; declaring it and reading the last day of pushes from the pushlog");
  expect(await svc.waitForLog("check done")).toMatchObject({ verified: 1, pending: 1, stoppedAt: { pushId: 2 } });
  svc.signal();
  await svc.finished;
});
