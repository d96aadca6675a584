// The queue depth reader with a fake of its one port, `read` (the Pulse adapter's passive declare):
// the readings it keeps, what it logs, and how long a scrape waits for it. amqplib reports a missing
// queue as a channel closed with code 404 (NOT_FOUND), which is what the fake throws.
import { describe, expect, it } from "vitest";
import { createQueueDepths } from "../../src/pulse/queue-depths.ts";
import { createTestLog } from "../support/test-log.ts";

const OWN = "queue/monitor/q";
const OTHER = "queue/other/theirs";

function notFound(): Error {
  return Object.assign(new Error("Channel closed by server: 404 (NOT-FOUND)"), { code: 404 });
}

describe("the queue depth reader", () => {
  it("keeps a reading per queue: ok, missing (no series), unknown (NaN); warns once past 2,000 on our own queue", async () => {
    const t = createTestLog();
    let depth = 2500;
    const depths = createQueueDepths({
      own: [OWN],
      others: [OTHER, "queue/other/gone", "queue/other/unreadable"],
      read: (queue) => {
        if (queue === "queue/other/gone") return Promise.reject(notFound());
        if (queue === "queue/other/unreadable") return Promise.reject(new Error("not connected"));
        return Promise.resolve({ messages: queue === OWN ? depth : 7, consumers: 1 });
      },
      log: t.log,
      now: () => 0,
    });
    await depths.refresh();
    expect(Object.fromEntries(depths.readings())).toEqual({
      [OWN]: { kind: "ok", messages: 2500, consumers: 1 },
      [OTHER]: { kind: "ok", messages: 7, consumers: 1 },
      "queue/other/gone": { kind: "missing" },
      "queue/other/unreadable": { kind: "unknown", reason: "not connected" },
    });
    await depths.refresh();
    const said = (msg: RegExp) => t.lines.filter((l) => msg.test(String(l.msg)));
    // Two refreshes, each change said once.
    expect(said(/^our queue holds more than 2000 messages; PulseGuardian deletes it at 8000$/)).toHaveLength(1);
    expect(said(/^a watched queue does not exist/)).toHaveLength(1);
    expect(said(/^cannot read a queue's depth/)).toHaveLength(1);
    depth = 10;
    await depths.refresh();
    expect(depths.readings().get(OWN)).toEqual({ kind: "ok", messages: 10, consumers: 1 });
    expect(said(/^our queue is back under 2000 messages$/)).toHaveLength(1);
    t.assertNoUnexpectedErrors();
  });

  it("a scrape reuses readings younger than 5 s and waits at most 2 s for a broker that does not answer", async () => {
    let now = 0;
    let reads = 0;
    let hang = false;
    const depths = createQueueDepths({
      own: [OWN],
      others: [],
      read: () => {
        reads++;
        return hang ? new Promise(() => undefined) : Promise.resolve({ messages: 1, consumers: 1 });
      },
      log: createTestLog().log,
      now: () => now,
      timeoutMs: 50,
    });
    await depths.forScrape();
    now += 1000;
    await depths.forScrape();
    expect(reads).toBe(1);
    now += 5000;
    hang = true;
    const started = Date.now();
    await depths.forScrape();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reads).toBe(2);
    // The last reading stands until a read answers.
    expect(depths.readings().get(OWN)).toEqual({ kind: "ok", messages: 1, consumers: 1 });
  });
});
