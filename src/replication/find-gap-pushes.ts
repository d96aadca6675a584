// Pushes the pushlog has that never came over Pulse: holes in the push ids after the last one seen,
// and after a re-created queue everything newer (PulseGuardian deletes a queue at 8,000 messages, and
// what was published meanwhile is gone). Which ids is pushlog-gaps.ts's; this reads them.
import type { Repository } from "../config/config.ts";
import type { PushlogClient } from "../pushlog/pushlog.ts";
import type { Push } from "../hgpush/hgpush-message.ts";
import { idsAfter, maxOf, missingPushIds } from "../hgpush/pushlog-gaps.ts";
import { pushIdRanges } from "../pushlog/push-id-ranges.ts";
import { PUSHLOG_SLICE } from "./verify-repository.ts";
import type { RepositoryWatch } from "./replication-state.ts";

/** How far back the pushlog is read when the queue was lost before this process saw a push. */
const LOST_QUEUE_LOOKBACK_S = 24 * 3600;

export async function findGapPushes(
  repo: Repository,
  watch: RepositoryWatch,
  present: readonly Push[],
  queueLost: boolean,
  ports: { pushlog: PushlogClient; now(): number },
  signal?: AbortSignal,
): Promise<Push[]> {
  let seen = watch.lastSeen;
  if (seen === undefined && queueLost) {
    // A queue lost before this process saw any push: what it held is only in the pushlog, and the
    // last day of it is read (pushes already mirrored verify at once).
    seen = (await ports.pushlog.firstPushIdSince(repo.path, ports.now() / 1000 - LOST_QUEUE_LOOKBACK_S, signal)) - 1;
    present = [];
  }
  if (seen === undefined) return [];
  const ids = new Set(
    missingPushIds(
      seen,
      present.map((p) => p.pushId),
    ),
  );
  if (queueLost) {
    const newest = maxOf(
      present.map((p) => p.pushId),
      seen,
    );
    for (const id of idsAfter(newest, await ports.pushlog.lastPushId(repo.path, signal))) ids.add(id);
  }
  const wanted = [...ids].filter((id) => !watch.held.has(id));
  const seenAt = Math.floor(ports.now() / 1000);
  const found: Push[] = [];
  for (const range of pushIdRanges(wanted, PUSHLOG_SLICE)) {
    for (const push of (await ports.pushlog.fetchRange(repo.path, range, signal)).pushes.values()) {
      if (ids.has(push.pushId)) found.push({ repository: repo.path, pushId: push.pushId, pushTime: push.pushTime, user: push.user, seenAt });
    }
  }
  return found;
}
