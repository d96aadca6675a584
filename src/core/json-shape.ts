// The two questions the fast readings of upstream JSON ask of a parsed value (hgpush-message.ts,
// adapters/pushlog.ts, adapters/phabricator.ts), asked the same way everywhere; what JSON.parse
// builds is a plain object, so "an object and not an array" is zod's z.record/z.object check for it.

/** A 40-hex Mercurial node or Git commit, lower case, as hg.mozilla.org and Lando write them. */
export const NODE_PATTERN = /^[0-9a-f]{40}$/;

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export const isNode = (value: unknown): value is string => typeof value === "string" && NODE_PATTERN.test(value);
