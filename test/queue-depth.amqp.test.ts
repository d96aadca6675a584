// phabmon_queue_messages / _consumers: our queues and QUEUE_DEPTH_QUEUES, read by passive declares,
// fresh at each check and at scrape, and never a failed scrape.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { otherTypeV2 } from "./support/hgpush.ts";
import { sampleIn as sample } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();

describe("queue depth", () => {
  it("reports our queues and the watched ones, fresh at scrape, and drops a missing one, saying so once", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], tryRepository: true });
    const watched = `${h.broker.queue}-watched`;
    const missing = `${h.broker.queue}-missing`;
    await h.broker.prepareQueue(["watched-key"], watched);
    const svc = await h.start([], { QUEUE_DEPTH_QUEUES: `${watched},${missing}` });
    await svc.waitForLog("code-review pipeline check done");

    const scrape = async () => (await fetch(`${svc.url}/metrics`)).text();
    let text = await scrape();
    expect(sample(text, `phabmon_queue_messages{queue="${watched}"}`)).toBe(0);
    expect(sample(text, `phabmon_queue_consumers{queue="${watched}"}`)).toBe(0);
    expect(sample(text, `phabmon_queue_messages{queue="${h.broker.queue}"}`)).toBe(0);
    expect(sample(text, `phabmon_queue_messages{queue="${h.broker.tryQueue}"}`)).toBe(0);
    expect(text).not.toContain(missing);

    // Fresh at scrape: three messages published to the watched queue show within the cache's 5 s.
    for (let i = 0; i < 3; i++) await h.broker.publish("watched-key", { n: i });
    const deadline = Date.now() + 8000;
    while (sample(text, `phabmon_queue_messages{queue="${watched}"}`) !== 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      text = await scrape();
    }
    expect(sample(text, `phabmon_queue_messages{queue="${watched}"}`)).toBe(3);

    expect(svc.logs.filter((l) => l.msg === "a watched queue does not exist; its depth series is removed").map((l) => l.queue)).toEqual([missing]);
    svc.signal();
    await svc.finished;
  });

  it("reads NaN, not 0, while the broker cannot be reached, and never fails the scrape", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`] });
    const watched = `${h.broker.queue}-watched`;
    // Nothing listens on port 1: every connection attempt is refused.
    const svc = await h.start([], { PULSE_URL: "amqp://127.0.0.1:1", QUEUE_DEPTH_QUEUES: watched });
    await svc.waitForLog("check failed");
    let text = "";
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${svc.url}/metrics`);
      expect(res.status).toBe(200);
      text = await res.text();
    }
    // prom-client writes NaN as "Nan"; Prometheus reads it either way.
    expect(text).toContain(`phabmon_queue_messages{queue="${watched}"} Nan`);
    expect(text).toContain(`phabmon_queue_consumers{queue="${watched}"} Nan`);
    expect(text).toContain(`phabmon_queue_messages{queue="${h.broker.queue}"} Nan`);
    const said = svc.logs.filter((l) => l.msg === "cannot read a queue's depth; reporting it as unknown (NaN)").map((l) => l.queue);
    expect(said.sort()).toEqual([h.broker.queue, watched].sort());
    svc.signal();
    await svc.finished;
  });

  it("warns when our queue holds more than PulseGuardian's 2,000, and says when it is back under", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`] });
    const body = otherTypeV2(h.hg.url, AUTOLAND, "obsolete.1");
    await h.broker.publishMany(Array.from({ length: 2001 }, () => ({ routingKey: AUTOLAND, body })));
    const result = await h.run(["--once"]);
    expect(result.code).toBe(0);
    const warning = result.logs.find((l) => l.msg === "our queue holds more than 2000 messages; PulseGuardian deletes it at 8000");
    expect(warning).toMatchObject({ level: 40, queue: h.broker.queue, messages: 2001 });
    expect(result.logs.find((l) => l.msg === "our queue is back under 2000 messages")).toMatchObject({ messages: 0 });
  });
});
