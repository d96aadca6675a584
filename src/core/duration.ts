// Seconds in the form a person reads at 3 a.m. ("5 min 12 s", "2 h 3 min", "3 d 4 h"): the two largest
// units, whole numbers. Pure.

const UNITS: ReadonlyArray<[string, number]> = [
  ["d", 86_400],
  ["h", 3600],
  ["min", 60],
  ["s", 1],
];

export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  const whole = Math.max(0, Math.floor(seconds));
  const first = UNITS.findIndex(([, size]) => whole >= size);
  if (first === -1) return "0 s";
  const [unit, size] = UNITS[first] as [string, number];
  const parts = [`${Math.floor(whole / size)} ${unit}`];
  const next = UNITS[first + 1];
  const remainder = next === undefined ? 0 : Math.floor((whole % size) / next[1]);
  if (next !== undefined && remainder > 0) parts.push(`${remainder} ${next[0]}`);
  return parts.join(" ");
}

/** " (5 min 12 s)" after a number of seconds, or nothing under a minute, where the number says it all. */
export function humanSuffix(seconds: number): string {
  return Number.isFinite(seconds) && seconds >= 60 ? ` (${humanDuration(seconds)})` : "";
}
