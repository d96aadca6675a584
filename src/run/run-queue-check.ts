// The one runner of queue-driven checks (the contract is src/run/check.ts): it owns the whole cycle of
// a run, so that every check drains, guards, counts, sets aside, settles, measures and reports the
// same way. The decisions are the check's; the I/O of the queue and of the metrics is here.
import type { Logger } from "pino";
import type { Delivery, DrainOptions } from "../pulse/pulse.ts";
import { SharedQueueError, checkFailure, type CheckFailure } from "./check-failure.ts";
import type { Measurement, Note, QueueCheck, QueueInput, ReadPlan, Settled } from "./check.ts";
import type { MessageMetrics } from "./message-metrics.ts";
import { keepSetAside, type CopyAside } from "./set-aside.ts";
import type { RunMetrics } from "./run-metrics.ts";
import { isFresh } from "./stale.ts";

/** One read of a queue, as the Pulse adapter hands it over. */
export interface QueueSession {
  readonly deliveries: readonly Delivery[];
  readonly depthAtStart: { messages: number; consumers: number };
  readonly otherConsumers: number;
  /** The queue was declared again before this run, after it had been deleted. */
  readonly queueRecreated: boolean;
  /** The broker cancelled the consumer during this run: the queue, and the messages read, are gone. */
  readonly cancelled: boolean;
  settle(ack: readonly number[]): Promise<boolean>;
  abandon(): Promise<void>;
}

/** What the runner needs around a check; the composition root gives each check its own. */
export interface RunnerPorts {
  drain(options: DrainOptions): Promise<QueueSession>;
  /** Where set-aside messages are kept; absent (tests), they are only counted and logged. */
  copyAside?: CopyAside | undefined;
  recordDepth(queue: string, depth: { messages: number; consumers: number }): void;
  /** Reads the queue's depth now and records it (what /status and the queue warnings see after a run). */
  readDepth(queue: string): Promise<unknown>;
  readOnly: boolean;
  maxMessagesPerCheck: number;
  drainIdleMs?: number | undefined;
  messageMetrics: MessageMetrics;
  /** Records one measurement (by its metric's name, on the app's registry). */
  record(measurement: Measurement): void;
  runMetrics: RunMetrics;
  staleAfterMs: number;
  log: Logger;
  now(): number;
}

/** What /__heartbeat__ says of one subject of a check. */
export interface SubjectHealth {
  key: string;
  healthy: boolean;
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
}

interface RunRecord {
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
}

export interface QueueCheckRunner<State, Report> {
  run: (signal?: AbortSignal) => Promise<Report>;
  state: () => State;
  /** Per subject: whether its last successful run is recent enough (the stale rule, src/run/stale.ts). */
  health(nowMs: number): SubjectHealth[];
}

export function createQueueCheckRunner<State, Plan, Evidence, Draft, Report>(
  check: QueueCheck<State, Plan, Evidence, Draft, Report>,
  ports: RunnerPorts,
): QueueCheckRunner<State, Report> {
  let state = check.initial;
  let records: ReadonlyMap<string, RunRecord> = new Map(check.subjects.map((s) => [s.key, { lastSuccessAt: undefined, lastError: undefined }]));
  const write = (notes: readonly Note[]) => {
    for (const { level, msg, fields } of notes) ports.log[level](fields ?? {}, msg);
  };

  async function run(signal?: AbortSignal): Promise<Report> {
    const read = await readInput(check, ports, signal);
    let decision;
    try {
      const evidence = await check.gather(read.input, state, signal);
      decision = check.decide(read.input, state, evidence, ports.now());
    } catch (error) {
      // Whatever throws midway, what was read goes back to the queue, in order.
      await read.session?.abandon();
      throw error;
    }
    const settled = read.session && read.plan ? await settle(read.session, read.plan, decision, ports) : { acked: false };
    if (read.session) {
      await ports
        .readDepth(check.queue)
        .catch((err: unknown) => ports.log.debug({ err, queue: check.queue }, "could not read the queue depth after the check"));
    }
    // Measures only what the broker took: a message handed back comes again and is measured then.
    if (settled.acked || read.session === undefined) for (const measurement of decision.measurements) ports.record(measurement);
    write(decision.notes);
    const conclusion = check.conclude(decision.draft, settled, ports.now());
    // What the scrape-time collectors and /status read from now on (state()): one value, replaced whole.
    state = conclusion.state;
    records = recordRun(check.subjects, conclusion.failures, records, ports);
    write(conclusion.notes);
    return conclusion.report;
  }

  return {
    run,
    state: () => state,
    health(nowMs) {
      return check.subjects.map(({ key }) => {
        const record = records.get(key);
        return {
          key,
          healthy: isFresh(record?.lastSuccessAt, nowMs, ports.staleAfterMs),
          lastSuccessAt: record?.lastSuccessAt,
          lastError: record?.lastError,
        };
      });
    },
  };
}

interface ReadInput<Plan> {
  input: QueueInput<Plan>;
  session?: QueueSession;
  plan?: ReadPlan<Plan>;
}

/** Drain → other-consumer guard → plan → the counts of what was read. */
async function readInput<Plan>(
  check: QueueCheck<unknown, Plan, unknown, unknown, unknown>,
  ports: RunnerPorts,
  signal: AbortSignal | undefined,
): Promise<ReadInput<Plan>> {
  check.prepare?.(signal);
  let session: QueueSession;
  try {
    session = await ports.drain({
      queue: check.queue,
      maxMessages: ports.maxMessagesPerCheck,
      idleMs: ports.drainIdleMs ?? 1000,
      signal,
      ...(check.onDelivery === undefined ? {} : { onDelivery: (d: Delivery) => check.onDelivery?.(d) }),
    });
  } catch (error) {
    return { input: { kind: "not_read", failure: checkFailure("queue", "pulse", error, { signal }), messages: 0 } };
  }
  ports.recordDepth(check.queue, session.depthAtStart);
  if (session.otherConsumers > 0) {
    // Another instance (Heroku starts the new dyno before stopping the old one) holds part of the
    // queue. Judging the rest could ack what is queued behind what it holds, and an empty view would
    // read as healthy: everything goes back, and the run says it could not be done.
    await session.abandon();
    ports.log.warn({ queue: check.queue, consumers: session.otherConsumers }, "check skipped: another consumer is reading the queue");
    const shared = new SharedQueueError(`another consumer is reading ${check.queue} (${session.otherConsumers}); everything was handed back`);
    return { input: { kind: "not_read", failure: checkFailure("queue", "pulse", shared), messages: session.deliveries.length } };
  }
  let plan: ReadPlan<Plan>;
  try {
    plan = check.plan(session.deliveries);
    countRead(plan, session.deliveries, ports);
  } catch (error) {
    // A decoder that throws is a bug; what was read goes back to the queue, in order, all the same.
    await session.abandon();
    throw error;
  }
  return {
    input: { kind: "read", plan: plan.plan, deliveries: session.deliveries, queueLost: session.queueRecreated || session.cancelled },
    session,
    plan,
  };
}

/** What is counted as it is read: new messages per repository; a rejected one is logged the first time it is read. */
function countRead(plan: ReadPlan<unknown>, deliveries: readonly Delivery[], ports: RunnerPorts): void {
  for (const { level, msg, fields } of plan.notes) ports.log[level](fields ?? {}, msg);
  const atS = ports.now() / 1000;
  for (const [repository, count] of plan.received) {
    ports.messageMetrics.messagesReceived.inc({ repository }, count);
    ports.messageMetrics.lastPushReceived.set({ repository }, atS);
  }
  for (const { index, reason, detail } of plan.rejected) {
    const delivery = deliveries[index] as Delivery;
    if (delivery.redelivered) continue;
    const body = Buffer.from(delivery.body.subarray(0, 300)).toString("utf8");
    ports.log.warn({ reason, detail, routingKey: delivery.routingKey.slice(0, 200), body }, "set aside a malformed or foreign message");
  }
}

/**
 * Copies what is set aside, settles (acks the check's, the plan's done and what was kept aside; hands
 * back the rest; read-only, hands back everything), and counts what left the queue: a rejected or
 * skipped message is counted once, when it is acked.
 */
async function settle<Plan>(
  session: QueueSession,
  plan: ReadPlan<Plan>,
  decision: { ack: readonly number[]; setAside: ReadonlyArray<{ index: number; reason: string }> },
  ports: RunnerPorts,
): Promise<Settled> {
  if (ports.readOnly) {
    await session.abandon();
    return { acked: false };
  }
  const aside = [...plan.rejected.map(({ index, reason }) => ({ index, reason })), ...decision.setAside];
  const copies = aside.map(({ index, reason }) => ({ index, reason, delivery: session.deliveries[index] as Delivery }));
  const ack = await keepSetAside(copies, [...new Set([...decision.ack, ...plan.done, ...aside.map((a) => a.index)])], {
    copyAside: ports.copyAside,
    metrics: ports.messageMetrics,
    log: ports.log,
    nowMs: ports.now(),
  });
  if (!(await session.settle(ack))) {
    if (session.deliveries.length === 0) return { acked: true };
    return { acked: false, failure: checkFailure("settle", "pulse", new Error("the broker did not take the acks; the messages stay queued")) };
  }
  const acked = new Set(ack);
  for (const { index, reason } of aside) if (acked.has(index)) ports.messageMetrics.messagesRejected.inc({ reason });
  for (const reason of plan.skipped) ports.messageMetrics.messagesSkipped.inc({ reason });
  for (const [repository, count] of plan.duplicates) ports.messageMetrics.duplicateMessages.inc({ repository }, count);
  return { acked: true };
}

/** The run metrics of each subject, and the record /__heartbeat__ reads. */
function recordRun(
  subjects: QueueCheck<unknown, unknown, unknown, unknown, unknown>["subjects"],
  failures: ReadonlyMap<string, CheckFailure>,
  records: ReadonlyMap<string, RunRecord>,
  ports: RunnerPorts,
): ReadonlyMap<string, RunRecord> {
  const at = ports.now();
  const next = new Map(records);
  for (const { key, labels } of subjects) {
    const failure = failures.get(key);
    ports.runMetrics.ran(labels, failure, at);
    const before = records.get(key);
    next.set(key, failure === undefined ? { lastSuccessAt: at, lastError: undefined } : { lastSuccessAt: before?.lastSuccessAt, lastError: failure.message });
  }
  return next;
}
