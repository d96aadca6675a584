// Secrets out of anything that leaves the process: every occurrence of a secret's value in any string
// of a JSON-like value is replaced. Pure.

export const REDACTED = "[redacted]";

/** Secrets shorter than this are not looked for: a one-letter "secret" would redact every word. */
const MIN_SECRET_LENGTH = 4;

export function scrubSecrets<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const wanted = secrets.filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET_LENGTH);
  if (wanted.length === 0) return value;
  const scrub = (v: unknown): unknown => {
    if (typeof v === "string") return wanted.reduce((text, secret) => text.split(secret).join(REDACTED), v);
    if (Array.isArray(v)) return v.map(scrub);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, inner]) => [scrub(k) as string, scrub(inner)]));
    return v;
  };
  return scrub(value) as T;
}
