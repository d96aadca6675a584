// Pushes that never arrived over Pulse: holes in the push ids of a repository, and everything after
// the last push seen when the queue had to be re-created (PulseGuardian deletes a queue at 8,000
// messages, and what is published meanwhile is gone). Pure.
import type { Push } from "./hgpush-message.ts";

/**
 * The largest of `values` (and `floor`), by a loop: `Math.max(...values)` passes each value as an
 * argument, and a queue of 200,000 pushes overflows the call stack.
 */
export function maxOf(values: Iterable<number>, floor = Number.NEGATIVE_INFINITY): number {
  let max = floor;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** The most push ids one check looks for in the pushlog, so that a wild id cannot start a huge fetch. */
export const MAX_GAP_PUSHES = 10_000;

/**
 * Push ids after `lastSeen` and below the highest of `present` that are not in `present`: Pulse
 * delivers a repository's pushes in order, so these were lost on the way.
 */
export function missingPushIds(lastSeen: number | undefined, present: readonly number[]): number[] {
  if (lastSeen === undefined || present.length === 0) return [];
  const have = new Set(present);
  const highest = maxOf(present);
  const missing: number[] = [];
  for (let id = lastSeen + 1; id < highest && missing.length < MAX_GAP_PUSHES; id++) {
    if (!have.has(id)) missing.push(id);
  }
  return missing;
}

/** Ids from `after` + 1 to `lastPushId`, at most MAX_GAP_PUSHES of them. */
export function idsAfter(after: number, lastPushId: number): number[] {
  const count = Math.max(0, Math.min(lastPushId - after, MAX_GAP_PUSHES));
  return Array.from({ length: count }, (_, i) => after + 1 + i);
}

/**
 * The pushes to walk: those from messages and those held in memory, one per id, by id. A push keeps
 * when it was first seen (`seenAt`); one seen for the first time now is seen at `nowS`.
 */
export function mergePushes(fromMessages: readonly Push[], held: Iterable<Push>, nowS: number): Push[] {
  const byId = new Map<number, Push>();
  for (const push of held) byId.set(push.pushId, push);
  for (const push of fromMessages) byId.set(push.pushId, { ...push, seenAt: byId.get(push.pushId)?.seenAt ?? push.seenAt ?? nowS });
  return [...byId.values()].sort((a, b) => a.pushId - b.pushId);
}
