// What a read of an hgpush queue carries, for the checks that read one (replication, the code-review
// pipeline): each message decoded as it arrives (5,000 decode while the broker still sends the rest),
// then planned: the pushes per repository, which message carries which push ids, what is set aside
// or acked whatever the check finds, and per repository why its input cannot be vouched for. Pure
// but for the cache of decoded messages, which lives as long as the deliveries do.
import type { Delivery } from "../pulse/pulse.ts";
import type { Note, ReadPlan } from "../run/check.ts";
import { decodeHgpushMessage, type DecodedMessage } from "./hgpush-message.ts";
import { planCheck, type CheckPlan } from "./check-plan.ts";
import { unusableInput } from "./input-evidence.ts";

export interface HgpushPlan extends CheckPlan {
  /** Per monitored repository: why its input cannot be vouched for in this read (input-evidence.ts). */
  unusable: ReadonlyMap<string, string>;
  /** Monitored repositories for which a message arrived for the first time (not a redelivery): input. */
  receivedNew: ReadonlySet<string>;
}

export interface HgpushReader {
  /** Decodes a delivery as it arrives. */
  onDelivery: (delivery: Delivery) => void;
  plan: (deliveries: readonly Delivery[]) => ReadPlan<HgpushPlan>;
}

export function hgpushReader(hgUrl: string, monitored: ReadonlySet<string>): HgpushReader {
  const decoded = new WeakMap<Delivery, DecodedMessage>();
  const decode = (d: Delivery): DecodedMessage => {
    let message = decoded.get(d);
    if (message === undefined) {
      message = decodeHgpushMessage({ body: d.body, contentType: d.contentType, routingKey: d.routingKey }, hgUrl);
      decoded.set(d, message);
    }
    return message;
  };
  return {
    onDelivery: (d) => void decode(d),
    plan(deliveries) {
      const messages = deliveries.map(decode);
      const plan = planCheck(
        messages.map((message, index) => ({ index, decoded: message })),
        monitored,
      );
      const unusable = unusableInput(
        messages.map((m, i) => ({ routingKey: deliveries[i]?.routingKey ?? "", decoded: m })),
        monitored,
        hgUrl,
      );
      const received = new Map<string, number>();
      messages.forEach((m, i) => {
        if (m.kind === "rejected" || m.repository === undefined || !monitored.has(m.repository) || deliveries[i]?.redelivered) return;
        received.set(m.repository, (received.get(m.repository) ?? 0) + 1);
      });
      const notes: Note[] = [];
      messages.forEach((m, i) => {
        if (m.kind !== "pushes") return;
        const fields = { repository: m.repository, pushIds: m.pushes.map((p) => p.pushId), redelivered: deliveries[i]?.redelivered ?? false };
        notes.push({ level: "debug", msg: "read a push message", fields });
      });
      for (const a of plan.setAside) {
        if (a.outcome !== "skipped") continue;
        notes.push({
          level: "debug",
          msg: "skipped a message with nothing to verify",
          fields: { reason: a.reason, routingKey: deliveries[a.index]?.routingKey },
        });
      }
      const duplicates = new Map<string, number>();
      for (const a of plan.setAside) if (a.outcome === "duplicate") duplicates.set(a.repository, (duplicates.get(a.repository) ?? 0) + 1);
      return {
        plan: { ...plan, unusable, receivedNew: new Set(received.keys()) },
        rejected: plan.setAside.flatMap((a) => (a.outcome === "rejected" ? [{ index: a.index, reason: a.reason, detail: a.detail }] : [])),
        done: plan.setAside.filter((a) => a.outcome !== "rejected").map((a) => a.index),
        received,
        skipped: plan.setAside.flatMap((a) => (a.outcome === "skipped" ? [a.reason] : [])),
        duplicates,
        notes,
      };
    },
  };
}
