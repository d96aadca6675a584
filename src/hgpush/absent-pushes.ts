// What to make of a push that a message announced but json-pushes does not list. Pure.
//
// json-pushes lists only replicated pushes, and `lastpushid` is the last replicated id
// (version-control-tools hgext/pushlog/feed.py, `last_push_id_replicated`). A notification can
// arrive a moment before its push is listed (Bug 1961220), so an id above `lastpushid` is not
// replicated *yet*. A push whose changesets were stripped vanishes from the answer although its id
// is at or below `lastpushid` (hgext/pushlog/tests/test-empty-pushes.t: ids 1 and 3, lastpushid 3):
// that one will never be listed.

/** Checks a push above `lastpushid` is waited for before it is given up. */
export const MAX_NOT_REPLICATED_CHECKS = 3;

/**
 * Short fixed words, also the `reason` label of phabmon_messages_rejected_total. `bad_time`: the
 * pushlog lists the push with a date no push can have (push-time.ts), so it is set aside as bad input.
 */
export type GiveUpReason = "stripped" | "not_replicated" | "no_git_commit" | "bad_time";

export type AbsentFate = { wait: true } | { wait: false; reason: GiveUpReason };

/**
 * @param checksAbsent how many checks, this one included, found the push absent.
 */
export function absentPushFate(pushId: number, lastPushId: number, checksAbsent: number): AbsentFate {
  if (pushId <= lastPushId) return { wait: false, reason: "stripped" };
  if (checksAbsent >= MAX_NOT_REPLICATED_CHECKS) return { wait: false, reason: "not_replicated" };
  return { wait: true };
}

/**
 * The absence counts after a check: each push found absent and still waited for counts one more;
 * every other push (listed, given up, or no longer announced) is forgotten.
 */
export function absenceAfterCheck(previous: ReadonlyMap<number, number>, stillWaiting: Iterable<number>): Map<number, number> {
  const next = new Map<number, number>();
  for (const id of stillWaiting) next.set(id, (previous.get(id) ?? 0) + 1);
  return next;
}
