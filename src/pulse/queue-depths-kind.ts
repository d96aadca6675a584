// The watch of the queues of other teams (QUEUE_DEPTH_QUEUES) as an entry of the check table: no
// queue of its own to read, a run refreshes each watched queue's depth (what the scrape-time
// collectors and /status's queues show). Its own queues' depths are read by the other checks.
import type { CheckKind } from "../run/check-kind.ts";

export const queueDepthsKind: CheckKind = {
  name: "queue_depths",
  judged: false,
  off: (config) => (config.queueDepthQueues.length === 0 ? "QUEUE_DEPTH_QUEUES is not set" : undefined),
  queue: () => undefined,
  create(context) {
    const ok = { ok: true, lines: [], json: null };
    return {
      name: "queue_depths",
      async run() {
        await context.queueDepths.refresh();
        return ok;
      },
      withoutRun: (error) => ({ ok: false, lines: [], json: { error } }),
      status: () => null,
      health: () => ({ healthy: true, details: null }),
    };
  },
};
