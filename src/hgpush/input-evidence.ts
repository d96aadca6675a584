// Evidence that a check cannot vouch for a repository although the queue was read: messages routed
// to a monitored repository that name another host than HG_URL (a wrong or misspelt HG_URL looks
// exactly like a quiet, healthy mirror), or a check in which every message for it was set aside (a
// schema change does too). Pure.
import type { DecodedMessage } from "./hgpush-message.ts";

export interface RoutedMessage {
  routingKey: string;
  decoded: DecodedMessage;
}

/** Per monitored repository, why its lag is unknown this check; absent when nothing says so. */
export function unusableInput(messages: readonly RoutedMessage[], monitored: ReadonlySet<string>, hgUrl: string): Map<string, string> {
  const own = URL.canParse(hgUrl) ? new URL(hgUrl).origin : hgUrl;
  const seen = new Map<string, { usable: number; rejected: Map<string, number>; origins: Set<string> }>();
  for (const { routingKey, decoded } of messages) {
    // A message's repository is its routing key (hg.mozilla.org routes by the hg path), whatever its body says.
    const repository = decoded.kind === "rejected" ? routingKey : (decoded.repository ?? routingKey);
    if (!monitored.has(repository)) continue;
    let entry = seen.get(repository);
    if (!entry) {
      entry = { usable: 0, rejected: new Map(), origins: new Set() };
      seen.set(repository, entry);
    }
    if (decoded.kind !== "rejected") {
      entry.usable++;
      continue;
    }
    entry.rejected.set(decoded.reason, (entry.rejected.get(decoded.reason) ?? 0) + 1);
    if (decoded.reason === "foreign_host") entry.origins.add(decoded.origin && decoded.origin !== own ? decoded.origin : "");
  }
  const reasons = new Map<string, string>();
  for (const [repository, entry] of seen) {
    const hosts = [...entry.origins].filter(Boolean).sort();
    if (hosts.length > 0) {
      reasons.set(repository, `messages for ${repository} name ${hosts.join(", ")}, but HG_URL is ${hgUrl}`);
    } else if (entry.origins.size > 0) {
      reasons.set(repository, `messages for ${repository} carry a repo_url that is not a repository below HG_URL ${hgUrl}`);
    } else if (entry.usable === 0 && entry.rejected.size > 0) {
      const counts = [...entry.rejected].map(([reason, n]) => `${n} ${reason}`).join(", ");
      reasons.set(repository, `every message for ${repository} in this check was set aside (${counts}); see phabmon_messages_rejected_total`);
    }
  }
  return reasons;
}
