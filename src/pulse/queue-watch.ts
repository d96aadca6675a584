// What to say about a watched queue when a new reading of its depth comes in: each change of state is
// logged once (not at every scrape), and the service's own queues get a warning while they hold more
// than PulseGuardian's warning threshold, because at its deletion threshold the queue is gone. Pure.

/** PulseGuardian's defaults (mozilla-services/pulseguardian pulseguardian/config.py WARN_QUEUE_SIZE, DEL_QUEUE_SIZE; guardian.py): one warning email at 2,000 messages, deletion at 8,000. */
export const PULSEGUARDIAN_WARN = 2000;
export const PULSEGUARDIAN_DELETE = 8000;

export type DepthReading =
  | { kind: "ok"; messages: number; consumers: number }
  /** The broker says the queue does not exist (404 on a passive declare). */
  | { kind: "missing" }
  /** The depth cannot be read (not connected, timeout, refused). */
  | { kind: "unknown"; reason: string };

export interface WatchState {
  kind: DepthReading["kind"];
  /** Over the warning threshold at the last good reading. */
  over: boolean;
}

export interface Notice {
  level: "warn" | "info";
  msg: string;
  fields: Record<string, unknown>;
}

export function watchQueue(
  queue: string,
  previous: WatchState | undefined,
  reading: DepthReading,
  options: { own: boolean; warnAt?: number },
): { state: WatchState; notices: Notice[] } {
  const warnAt = options.warnAt ?? PULSEGUARDIAN_WARN;
  const notices: Notice[] = [];
  const wasOver = previous?.over ?? false;
  if (reading.kind !== previous?.kind) {
    if (reading.kind === "missing") notices.push({ level: "warn", msg: "a watched queue does not exist; its depth series is removed", fields: { queue } });
    else if (reading.kind === "unknown")
      notices.push({ level: "warn", msg: "cannot read a queue's depth; reporting it as unknown (NaN)", fields: { queue, err: reading.reason } });
    else if (previous !== undefined) notices.push({ level: "info", msg: "a queue's depth can be read again", fields: { queue } });
  }
  if (reading.kind !== "ok") return { state: { kind: reading.kind, over: wasOver }, notices };
  const over = options.own && reading.messages > warnAt;
  if (over && !wasOver) {
    notices.push({
      level: "warn",
      msg: `our queue holds more than ${warnAt} messages; PulseGuardian deletes it at ${PULSEGUARDIAN_DELETE}`,
      fields: { queue, messages: reading.messages },
    });
  } else if (!over && wasOver) {
    notices.push({ level: "info", msg: `our queue is back under ${warnAt} messages`, fields: { queue, messages: reading.messages } });
  }
  return { state: { kind: "ok", over }, notices };
}
