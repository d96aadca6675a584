// Times read from upstream (a pushlog `date`, a Conduit epoch) are data, not facts: bounded as message
// times are (src/hgpush/hgpush-message.ts), and never allowed to hide a lag. Pure.
import type { Push } from "../hgpush/hgpush-message.ts";

/**
 * The last Unix second a push time may name: 2286-11-20, after which a time has more than ten digits
 * (the decoder's bound on a message's `time`). Well inside what a Date can hold, so no time that passes
 * can make a status page or a log line throw.
 */
export const LATEST_UNIX_TIME = 9_999_999_999;

/** A Unix time in seconds that a push, a diff or a build could have. */
export function isUnixTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= LATEST_UNIX_TIME;
}

/**
 * The push with the time its lag counts from: the pushlog's date once it lists the push, the message's
 * until then; but a time in the future (a skewed clock, bad data) would make the lag 0 while the push
 * is not mirrored, so such a push counts from when this process first saw it.
 */
export function timedPush(push: Push, listedTime: number | undefined, nowS: number): Push {
  const time = listedTime ?? push.pushTime;
  if (time <= nowS) return { ...push, pushTime: time };
  return { ...push, pushTime: Math.min(push.seenAt ?? nowS, nowS) };
}
