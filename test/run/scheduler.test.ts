// The scheduler with checks that are plain functions (no service is asked): order, no overlap, the
// maximum run time, and the failure streak logged once.
import { describe, expect, it } from "vitest";
import pino from "pino";
import { createScheduler, defaultRunPolicy, type Check } from "../../src/run/scheduler.ts";

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const policy = { maxRunMs: 100, stopGraceMs: 100, maxConsecutiveFailures: 3 };

describe("the scheduler", () => {
  it("runs the checks in order, one after the other", async () => {
    const order: string[] = [];
    const check = (name: string): Check => ({
      name,
      run: async () => {
        order.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 10));
        order.push(`${name} end`);
        return { ok: true };
      },
    });
    const scheduler = createScheduler({ checks: [check("replication"), check("code_review")], policy, log: recordingLog().log, now: Date.now });
    const results = await scheduler.runAll(new AbortController().signal);
    expect(order).toEqual(["replication start", "replication end", "code_review start", "code_review end"]);
    expect([...results.values()].map((r) => r.status)).toEqual(["done", "done"]);
  });

  it("stops a run at the maximum run time and counts it failed; a run that ignores the stop is not waited for, and never doubled", async () => {
    const { log, lines } = recordingLog();
    let runsStarted = 0;
    let deafness = true;
    let release: () => void = () => undefined;
    const deaf: Check = {
      name: "replication",
      run: () => {
        runsStarted++;
        if (!deafness) return Promise.resolve({ ok: true });
        return new Promise((resolve) => {
          release = () => resolve({ ok: true });
        });
      },
    };
    const scheduler = createScheduler({ checks: [deaf], policy, log, now: Date.now });
    const started = Date.now();
    const first = await scheduler.runAll(new AbortController().signal);
    const waited = Date.now() - started;
    expect(first.get("replication")).toEqual({ status: "failed", error: "did not stop within 0.1 s of being told to" });
    expect(waited).toBeGreaterThanOrEqual(policy.maxRunMs + policy.stopGraceMs - 20);
    // The abandoned run has not ended: the next run is skipped, not started beside it.
    expect((await scheduler.runAll(new AbortController().signal)).get("replication")).toEqual({ status: "skipped" });
    expect(runsStarted).toBe(1);
    // The heartbeat says the abandoned run is still going, not that nothing runs.
    expect(scheduler.summary(Date.now()).replication).toMatchObject({ timedOut: 1, consecutiveFailures: 2, running: true });
    deafness = false;
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect((await scheduler.runAll(new AbortController().signal)).get("replication")?.status).toBe("done");
    expect(runsStarted).toBe(2);
    expect(lines.filter((l) => l.msg === "check run failed")).toHaveLength(1);
  });

  it("a check that honours the stop reports its own failure, counted as timed out", async () => {
    const polite: Check = {
      name: "replication",
      run: (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ ok: false }), { once: true })),
    };
    const scheduler = createScheduler({ checks: [polite], policy, log: recordingLog().log, now: Date.now });
    const result = await scheduler.runAll(new AbortController().signal);
    expect(result.get("replication")).toEqual({ status: "failed", error: "stopped after the maximum run time of 0.1 s" });
    expect(scheduler.summary(Date.now()).replication).toMatchObject({ timedOut: 1, running: false });
  });

  it("logs a streak of failures once when it reaches three, and once when the check completes again", async () => {
    const { log, lines } = recordingLog();
    let ok = false;
    const flaky: Check = { name: "replication", run: () => Promise.resolve({ ok }) };
    const scheduler = createScheduler({ checks: [flaky], policy, log, now: Date.now });
    for (let i = 0; i < 5; i++) await scheduler.runAll(new AbortController().signal);
    expect(lines.filter((l) => l.msg === "check has failed 3 times in a row")).toHaveLength(1);
    expect(scheduler.summary(Date.now()).replication).toMatchObject({ consecutiveFailures: 5, failing: true });
    ok = true;
    await scheduler.runAll(new AbortController().signal);
    expect(lines.filter((l) => l.msg === "check completed again after failing in a row")).toHaveLength(1);
    expect(scheduler.summary(Date.now()).replication).toMatchObject({ consecutiveFailures: 0, failing: false });
  });

  it("a check that throws is a failed run, not a crashed loop", async () => {
    const broken: Check = { name: "replication", run: () => Promise.reject(new Error("boom")) };
    const after: Check = { name: "code_review", run: () => Promise.resolve({ ok: true }) };
    const scheduler = createScheduler({ checks: [broken, after], policy, log: recordingLog().log, now: Date.now });
    const results = await scheduler.runAll(new AbortController().signal);
    expect(results.get("replication")).toEqual({ status: "failed", error: "boom" });
    expect(results.get("code_review")?.status).toBe("done");
  });

  it("gives a check most of the interval, between one and thirty minutes", () => {
    expect(defaultRunPolicy(300_000)).toEqual({ maxRunMs: 240_000, stopGraceMs: 5000, maxConsecutiveFailures: 3 });
    expect(defaultRunPolicy(1000).maxRunMs).toBe(60_000);
    expect(defaultRunPolicy(365 * 24 * 3600_000).maxRunMs).toBe(30 * 60_000);
  });
});
