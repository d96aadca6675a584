// Date strings the pushlog reads (version-control-tools hgext/pushlog/feed.py `do_parse_date`) and
// the dates Mercurial prints (mercurial/utils/dateutil.py `datestr`). The fake's server runs in UTC,
// as the recorded one did (its `YYYY-MM-DD hh:mm:ss` bounds match the UTC push times).

const RELATIVE_UNITS: Record<string, number> = { second: 1, sec: 1, minute: 60, min: 60, hour: 3600, hr: 3600, day: 86400, week: 604800 };

/**
 * feed.py's `do_parse_date`: `YYYY-MM-DD[ HH[:MM[:SS]]]` (its regular expression) as local time;
 * anything else goes to the bundled parsedatetime (hgext/pushlog/parsedatetime), of which the fake
 * knows the forms below (checked by running that module). parsedatetime reads an unknown string as
 * *now*, a bare or offset UNIX timestamp included, and `YYYY-MM-DDThh:mm:ss…` as today at the clock
 * time its first four digits spell (`2026-…` is 20:26), or now when they are no clock time.
 */
export function pushlogDate(value: string, nowSeconds: number): number {
  const now = Math.floor(nowSeconds);
  const text = value.trim();
  const strict = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/.exec(text);
  if (strict) return localTime(strict.slice(1));
  // parsedatetime: a date and time followed by anything (`Z`, `.000`, ` +0000`), the rest ignored.
  const dated = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?(?!\d)/.exec(text);
  if (dated) return Number(dated[4]) < 24 && Number(dated[5]) < 60 && Number(dated[6] ?? 0) < 60 ? localTime(dated.slice(1)) : now;
  const isoT = /^(\d{2})(\d{2})-\d{2}-\d{2}T/.exec(text);
  if (isoT) {
    const [hour, minute] = [Number(isoT[1]), Number(isoT[2])];
    if (hour > 23 || minute > 59) return now;
    const today = new Date(now * 1000);
    return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), hour, minute) / 1000;
  }
  const ago = /^(\d+) (second|sec|minute|min|hour|hr|day|week)s? ago$/i.exec(text);
  if (ago) return now - Number(ago[1]) * (RELATIVE_UNITS[(ago[2] as string).toLowerCase()] as number);
  return now;
}

/** time.mktime of a local-time tuple, in the fake's UTC. */
function localTime(parts: Array<string | undefined>): number {
  const [y, mo, d, h, mi, s] = parts.map((x) => (x === undefined ? 0 : Number(x)));
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s) / 1000;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** dateutil.datestr's default `%a %b %d %H:%M:%S %Y %1%2` of an hgdate at UTC offset 0. */
export function datestr(seconds: number): string {
  const t = new Date(seconds * 1000);
  const time = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  return `${DAYS[t.getUTCDay()]} ${MONTHS[t.getUTCMonth()]} ${pad(t.getUTCDate())} ${time} ${t.getUTCFullYear()} +0000`;
}
