import { describe, expect, it } from "vitest";
import { watchQueue, type DepthReading, type WatchState } from "../../src/pulse/queue-watch.ts";

function run(readings: DepthReading[], own = true): string[] {
  let state: WatchState | undefined;
  const said: string[] = [];
  for (const reading of readings) {
    const next = watchQueue("queue/u/q", state, reading, { own });
    state = next.state;
    said.push(...next.notices.map((n) => `${n.level}: ${n.msg}`));
  }
  return said;
}

const ok = (messages: number): DepthReading => ({ kind: "ok", messages, consumers: 1 });

describe("watchQueue", () => {
  it("says nothing while a queue is readable and small", () => {
    expect(run([ok(0), ok(10), ok(1999), ok(2000)])).toEqual([]);
  });

  it("warns once when our queue passes 2,000 and says once when it is back under", () => {
    expect(run([ok(1500), ok(2001), ok(2500), ok(7999), ok(100), ok(50)])).toEqual([
      "warn: our queue holds more than 2000 messages; PulseGuardian deletes it at 8000",
      "info: our queue is back under 2000 messages",
    ]);
  });

  it("does not warn about the depth of someone else's queue", () => {
    expect(run([ok(5000)], false)).toEqual([]);
  });

  it("logs a missing queue or an unreadable depth once per change, not per reading", () => {
    const said = run([ok(1), { kind: "missing" }, { kind: "missing" }, { kind: "unknown", reason: "down" }, { kind: "unknown", reason: "down" }, ok(1), ok(1)]);
    expect(said).toEqual([
      "warn: a watched queue does not exist; its depth series is removed",
      "warn: cannot read a queue's depth; reporting it as unknown (NaN)",
      "info: a queue's depth can be read again",
    ]);
  });

  it("remembers being over the threshold across an unreadable spell", () => {
    expect(run([ok(3000), { kind: "unknown", reason: "down" }, ok(3100), ok(10)])).toEqual([
      "warn: our queue holds more than 2000 messages; PulseGuardian deletes it at 8000",
      "warn: cannot read a queue's depth; reporting it as unknown (NaN)",
      "info: a queue's depth can be read again",
      "info: our queue is back under 2000 messages",
    ]);
  });
});
