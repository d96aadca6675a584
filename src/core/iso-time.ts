// An instant as ISO 8601, or null when there is none or it is no instant a Date can hold: a time read
// from upstream is bounded where it is read (push-time.ts), and what shows it (/status, the page, a
// log line) is still never the thing that throws (a throw there was a 500 on /status and a failed
// scrape, for as long as the push stayed queued). Pure.

export function iso(ms: number | undefined): string | null {
  if (ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function isoSeconds(seconds: number): string | null {
  return iso(seconds * 1000);
}
