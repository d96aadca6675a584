// The runner's part of the check contract (src/run/check.ts), shown with a toy check over a fake queue
// session: what it does the same for every check (the guard, the hand-back on a throw, read-only, the
// set-aside copies, counting and measuring only what the broker took), whatever the check decides.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Counter, type Registry } from "prom-client";
import { createRegistry } from "../../src/app/metrics.ts";
import type { Delivery } from "../../src/pulse/pulse.ts";
import type { QueueCheck, QueueInput, ReadPlan } from "../../src/run/check.ts";
import { failureReason, type CheckFailure } from "../../src/run/check-failure.ts";
import { createQueueCheckRunner, type QueueSession } from "../../src/run/run-queue-check.ts";
import type { CopyAside } from "../../src/run/set-aside.ts";
import { fakeRunnerPorts, fakeSession } from "../support/runner.ts";
import { createTestLog, type TestLog } from "../support/test-log.ts";

const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const NAMES = {
  checks: { name: "toy_checks_total", help: "Runs." },
  failures: { name: "toy_check_failures_total", help: "Failed runs." },
  lastSuccess: { name: "toy_last_success_timestamp_seconds", help: "Last success." },
};

interface Report {
  input: QueueInput<string[]>["kind"];
  failure: string | undefined;
  reason: string | undefined;
  acked: boolean;
}

/**
 * A check over messages that are plain words: "bad" is rejected by the decoder, "later" is left for
 * the next run, "odd" is set aside by the check, every other word is acked and counted in toy_words_total.
 */
function toyCheck(throwIn?: "plan" | "gather" | "decide"): QueueCheck<number, string[], number, CheckFailure | undefined, Report> {
  const words = (deliveries: readonly Delivery[]) => deliveries.map((d) => Buffer.from(d.body).toString("utf8"));
  return {
    name: "toy",
    queue: "queue/test/toy",
    subjects: [{ key: "toy", labels: { queue: "toy" } }],
    initial: 0,
    plan(deliveries): ReadPlan<string[]> {
      if (throwIn === "plan") throw new Error("a bug in plan");
      const all = words(deliveries);
      return {
        plan: all,
        rejected: all.flatMap((w, index) => (w === "bad" ? [{ index, reason: "not_a_word", detail: "bad" }] : [])),
        done: [],
        received: new Map([["toy", all.length]]),
        skipped: [],
        duplicates: new Map(),
        notes: [],
      };
    },
    gather(input) {
      if (throwIn === "gather") return Promise.reject(new Error("a bug in gather"));
      return Promise.resolve(input.kind === "read" ? input.plan.length : 0);
    },
    decide(input, _state, _evidence) {
      if (throwIn === "decide") throw new Error("a bug in decide");
      if (input.kind === "not_read") return { ack: [], setAside: [], measurements: [], notes: [], draft: input.failure };
      const indexes = (want: (w: string) => boolean) => input.plan.flatMap((w, i) => (want(w) ? [i] : []));
      const counted = indexes((w) => !["bad", "later", "odd"].includes(w));
      return {
        ack: counted,
        setAside: indexes((w) => w === "odd").map((index) => ({ index, reason: "odd" })),
        measurements: [{ metric: "toy_words_total", inc: counted.length }],
        notes: [{ level: "info", msg: "words read", fields: { count: counted.length } }],
        draft: undefined,
      };
    },
    conclude(failure, settled, nowMs) {
      const why = failure ?? settled.failure;
      return {
        state: nowMs,
        failures: why === undefined ? new Map() : new Map([["toy", why]]),
        report: { input: failure === undefined ? "read" : "not_read", failure: why?.message, reason: why && failureReason(why), acked: settled.acked },
        notes: [],
      };
    },
  };
}

let testLog: TestLog;
beforeEach(() => {
  testLog = createTestLog();
});
afterEach(() => testLog.assertNoUnexpectedErrors([/^could not keep the set-aside messages/]));

function runnerOf(
  session: QueueSession | Error,
  options: { throwIn?: "plan" | "gather" | "decide"; readOnly?: boolean; copyAside?: CopyAside } = {},
): { run: () => Promise<Report>; registry: Registry; health: () => unknown } {
  const registry = createRegistry({ version: "t", commit: "t" });
  new Counter({ name: "toy_words_total", help: "Words counted.", registers: [registry] });
  const check = toyCheck(options.throwIn);
  const drain = () => (session instanceof Error ? Promise.reject(session) : Promise.resolve(session));
  const ports = {
    ...fakeRunnerPorts({ registry, drain, names: NAMES, subjects: check.subjects, log: testLog.log, now: () => NOW_MS, readOnly: options.readOnly ?? false }),
    copyAside: options.copyAside,
  };
  const runner = createQueueCheckRunner(check, ports);
  return { run: () => runner.run(), registry, health: () => runner.health(NOW_MS) };
}

const words = (...list: string[]) => list.map((w) => ({ routingKey: "toy", body: w }));
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe("the queue check runner", () => {
  it("acks what the check is done with and what it set aside once copied, hands back the rest, and measures once the broker took the acks", async () => {
    const q = fakeSession(words("a", "later", "odd", "bad", "b"));
    const copied: string[] = [];
    const copyAside: CopyAside = (copies) => {
      copied.push(...copies.map((c) => `${Buffer.from(c.delivery.body).toString("utf8")}:${c.reason}`));
      return Promise.resolve({ dropped: 0 });
    };
    const { run, registry } = runnerOf(q.session, { copyAside });
    expect(await run()).toEqual({ input: "read", failure: undefined, reason: undefined, acked: true });
    expect(q.acked.map((a) => [...a].sort())).toEqual([[0, 2, 3, 4]]);
    expect(copied.sort()).toEqual(["bad:not_a_word", "odd:odd"]);
    expect(await value(registry, "toy_words_total")).toBe(2);
    expect(await value(registry, "phabmon_messages_rejected_total", { reason: "not_a_word" })).toBe(1);
    expect(await value(registry, "toy_checks_total")).toBe(1);
    expect(await value(registry, "toy_last_success_timestamp_seconds")).toBe(NOW_MS / 1000);
    expect(testLog.lines.filter((l) => l.msg === "words read")).toHaveLength(1);
  });

  it("when the broker does not take the acks: the run fails at settle, and nothing is measured or counted as rejected", async () => {
    const q = fakeSession(words("a", "bad"), { settles: false });
    const { run, registry, health } = runnerOf(q.session);
    expect(await run()).toMatchObject({ reason: "settle", acked: false });
    expect(await value(registry, "toy_words_total")).toBe(0);
    expect(await value(registry, "phabmon_messages_rejected_total", { reason: "not_a_word" })).toBeUndefined();
    expect(await value(registry, "toy_check_failures_total", { reason: "settle" })).toBe(1);
    expect(health()).toEqual([{ key: "toy", healthy: false, lastSuccessAt: undefined, lastError: expect.stringMatching(/did not take the acks/) }]);
    // What the check found is still said: only the measurements wait for the broker.
    expect(testLog.lines.some((l) => l.msg === "words read")).toBe(true);
  });

  it("keeps what it sets aside on the queue when the copy is not confirmed, and acks the rest", async () => {
    const q = fakeSession(words("a", "odd"));
    const { run } = runnerOf(q.session, { copyAside: () => Promise.reject(new Error("NOT_FOUND - no exchange")) });
    await run();
    expect(q.acked).toEqual([[0]]);
  });

  it("read-only: hands everything back and measures nothing, whatever the check decided", async () => {
    const q = fakeSession(words("a", "b", "bad"));
    const { run, registry } = runnerOf(q.session, { readOnly: true });
    expect(await run()).toMatchObject({ failure: undefined, acked: false });
    expect(q.acked).toEqual([]);
    expect(q.abandoned()).toBe(1);
    expect(await value(registry, "toy_words_total")).toBe(0);
    expect(await value(registry, "phabmon_messages_rejected_total", { reason: "not_a_word" })).toBeUndefined();
  });

  it("with another consumer on the queue: hands everything back before planning, and the run fails as queue_shared", async () => {
    const q = fakeSession(words("a"), { otherConsumers: 1 });
    const { run } = runnerOf(q.session, { throwIn: "plan" });
    expect(await run()).toMatchObject({ input: "not_read", reason: "queue_shared" });
    expect(q.abandoned()).toBe(1);
    expect(q.acked).toEqual([]);
  });

  it("a queue that cannot be read is a failed run with the queue's reason", async () => {
    const { run, registry } = runnerOf(new Error("connection closed"));
    expect(await run()).toEqual({ input: "not_read", failure: "connection closed", reason: "queue", acked: false });
    expect(await value(registry, "toy_check_failures_total", { reason: "queue" })).toBe(1);
  });

  for (const where of ["plan", "gather", "decide"] as const) {
    it(`a check that throws in ${where} hands everything it read back to the queue, and the run throws`, async () => {
      const q = fakeSession(words("a", "b"));
      const { run, registry } = runnerOf(q.session, { throwIn: where });
      await expect(run()).rejects.toThrow(`a bug in ${where}`);
      expect(q.acked).toEqual([]);
      expect(q.abandoned()).toBe(1);
      expect(await value(registry, "toy_words_total")).toBe(0);
    });
  }
});
