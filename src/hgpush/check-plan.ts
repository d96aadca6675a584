// Bookkeeping for one check: which pushes the delivered messages announce (deduplicated by
// repository and push id, ordered by push id), and, once pushes are verified, which messages may be
// acked and which must go back to the queue. Pure.
import type { DecodedMessage, Push, RejectReason, SkipReason } from "./hgpush-message.ts";

/** A message as delivered in this check; `index` is its place in delivery order. */
export interface DeliveredMessage {
  index: number;
  decoded: DecodedMessage;
}

export type SetAside =
  | { index: number; outcome: "rejected"; reason: RejectReason; detail: string }
  | { index: number; outcome: "skipped"; reason: SkipReason }
  | { index: number; outcome: "duplicate"; repository: string };

export interface CheckPlan {
  /** Each monitored repository's unique pushes, by ascending push id. */
  pushesByRepository: Map<string, Push[]>;
  /** For each message that carries pushes: its repository and the push ids it announces. */
  carriers: Map<number, { repository: string; pushIds: number[] }>;
  /** Messages that carry nothing to verify; acked (unless read-only) whatever the check finds. */
  setAside: SetAside[];
}

export function planCheck(messages: readonly DeliveredMessage[], monitored: ReadonlySet<string>): CheckPlan {
  const byRepository = new Map<string, Map<number, Push>>();
  const carriers = new Map<number, { repository: string; pushIds: number[] }>();
  const setAside: SetAside[] = [];

  for (const { index, decoded } of messages) {
    if (decoded.kind === "rejected") {
      setAside.push({ index, outcome: "rejected", reason: decoded.reason, detail: decoded.detail });
      continue;
    }
    if (decoded.kind === "skipped") {
      setAside.push({ index, outcome: "skipped", reason: decoded.reason });
      continue;
    }
    if (!monitored.has(decoded.repository)) {
      setAside.push({ index, outcome: "rejected", reason: "unmonitored", detail: decoded.repository });
      continue;
    }
    let known = byRepository.get(decoded.repository);
    if (!known) {
      known = new Map();
      byRepository.set(decoded.repository, known);
    }
    // Delivery is at least once: a message whose every push an earlier message already carries adds
    // nothing, and acking it is safe because the earlier one stays queued until those pushes verify.
    const fresh = decoded.pushes.filter((p) => !known.has(p.pushId));
    if (fresh.length === 0) {
      setAside.push({ index, outcome: "duplicate", repository: decoded.repository });
      continue;
    }
    for (const push of fresh) known.set(push.pushId, push);
    carriers.set(index, { repository: decoded.repository, pushIds: decoded.pushes.map((p) => p.pushId) });
  }

  const pushesByRepository = new Map<string, Push[]>();
  for (const [repository, pushes] of byRepository) {
    pushesByRepository.set(
      repository,
      [...pushes.values()].sort((a, b) => a.pushId - b.pushId),
    );
  }
  return { pushesByRepository, carriers, setAside };
}

export interface Settlement {
  /** Message indexes to ack, in delivery order. */
  ack: number[];
  /** Message indexes to hand back to the queue, in delivery order. */
  requeue: number[];
}

/**
 * A carrier is acked only when every push it announces is verified; everything else goes back.
 * `verified` holds, per repository, the push ids found fully mirrored in this check.
 */
export function settleCheck(plan: CheckPlan, verified: ReadonlyMap<string, ReadonlySet<number>>, messageCount: number): Settlement {
  const ack = new Set<number>(plan.setAside.map((s) => s.index));
  for (const [index, carrier] of plan.carriers) {
    const done = verified.get(carrier.repository);
    if (done && carrier.pushIds.every((id) => done.has(id))) ack.add(index);
  }
  const settlement: Settlement = { ack: [], requeue: [] };
  for (let index = 0; index < messageCount; index++) {
    (ack.has(index) ? settlement.ack : settlement.requeue).push(index);
  }
  return settlement;
}
