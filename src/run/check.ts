// The contract every queue-driven check follows. A check is decisions over its own state: the runner
// (src/run/run-queue-check.ts) reads its queue, and the check plans what the deliveries carry (pure),
// gathers what it needs from upstream (its only I/O), decides what to ack, set aside and measure
// (pure), and, once the broker has answered the settle, concludes its next state, its failures and
// its report (pure). Everything else a run does, the runner does once for every check: the drain, the
// other-consumer guard, the counts of what was read, the set-aside copies, the settle (read-only
// aware), the queue's depth after it, the measurements (recorded only once the broker took the acks),
// publishing the state for the scrape-time collectors, the run metrics and the health.
import type { Delivery } from "../pulse/pulse.ts";
import type { CheckFailure } from "./check-failure.ts";

/** What one part of a check is about: a repository, a Git branch, the pipeline; its labels are its run metrics'. */
export interface Subject {
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A value for a metric of the check's, by the metric's name: recorded only once the broker took the acks. */
export type Measurement =
  | { readonly metric: string; readonly labels?: Readonly<Record<string, string>>; readonly observe: number }
  | { readonly metric: string; readonly labels?: Readonly<Record<string, string>>; readonly inc: number }
  | { readonly metric: string; readonly labels?: Readonly<Record<string, string>>; readonly set: number };

/** A line for the log that a pure step asks for; the runner writes it. */
export interface Note {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly msg: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** A delivery set aside: copied with its reason to the rejected queue, then acked. */
export interface SetAside {
  readonly index: number;
  readonly reason: string;
}

/** What the deliveries of a read carry, as the check's decoder sees them (pure). */
export interface ReadPlan<Plan> {
  readonly plan: Plan;
  /** Rejected by the decoder: set aside. `detail` is logged once, with a bounded part of the body. */
  readonly rejected: ReadonlyArray<SetAside & { readonly detail: string }>;
  /** Acked whatever the check finds: nothing in them to check (other message types, empty pushes, duplicates). */
  readonly done: readonly number[];
  /** Messages read for the first time (redeliveries are not), per repository. */
  readonly received: ReadonlyMap<string, number>;
  /** Well-formed messages with nothing to check, one reason each. */
  readonly skipped: readonly string[];
  /** Messages whose every push an earlier one of the same read carries, per repository. */
  readonly duplicates: ReadonlyMap<string, number>;
  /** Lines about what was read (debug: each message, each skipped one), written as it is read. */
  readonly notes: readonly Note[];
}

/** One run's input: what was read off the queue, or why nothing could be. */
export type QueueInput<Plan> =
  | { readonly kind: "read"; readonly plan: Plan; readonly deliveries: readonly Delivery[]; readonly queueLost: boolean }
  | { readonly kind: "not_read"; readonly failure: CheckFailure; readonly messages: number };

/** What a check decided before the settle. */
export interface Decision<Draft> {
  /** Deliveries the check is done with; the runner adds the plan's `done` and what it sets aside. */
  readonly ack: readonly number[];
  /** Deliveries given up (a push json-pushes will never list, …), each with its reason. */
  readonly setAside: readonly SetAside[];
  readonly measurements: readonly Measurement[];
  /** What the check found, written after the settle whether or not the broker took the acks (read-only shows them too). */
  readonly notes: readonly Note[];
  /** What `conclude` needs: the check's own value, opaque to the runner. */
  readonly draft: Draft;
}

/** How the settle went: whether the broker took the acks (never, read-only), and why not. */
export interface Settled {
  readonly acked: boolean;
  readonly failure?: CheckFailure;
}

/** After the settle: the next state, why each subject's part of the run failed, and the report. */
export interface Conclusion<State, Report> {
  readonly state: State;
  readonly failures: ReadonlyMap<string, CheckFailure>;
  readonly report: Report;
  /** The run's own lines ("check done", "check failed" and the like). */
  readonly notes: readonly Note[];
}

export interface QueueCheck<State, Plan, Evidence, Draft, Report> {
  /** The check's name in /__heartbeat__, the scheduler's runs and --json. */
  readonly name: string;
  /** The full name of the queue it reads. */
  readonly queue: string;
  readonly subjects: readonly Subject[];
  readonly initial: State;
  /**
   * Called as the read starts, for lookups that do not depend on what is read (a mirror's repository),
   * so that they overlap with the drain. Its failures are the later steps' to meet and report.
   */
  prepare?(signal: AbortSignal | undefined): void;
  /** Called with each delivery as it arrives, while the broker sends the rest (to decode it early). */
  onDelivery?(delivery: Delivery): void;
  plan(deliveries: readonly Delivery[]): ReadPlan<Plan>;
  gather(input: QueueInput<Plan>, state: State, signal: AbortSignal | undefined): Promise<Evidence>;
  decide(input: QueueInput<Plan>, state: State, evidence: Evidence, nowMs: number): Decision<Draft>;
  conclude(draft: Draft, settled: Settled, nowMs: number): Conclusion<State, Report>;
}
