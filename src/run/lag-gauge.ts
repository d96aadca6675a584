// A lag gauge computed at each scrape from the state a check published (lag.ts's rules: NaN when
// unknown, a 0 only while Pulse is connected), one series per entry: the replication lag and the
// Git → hg sync lag are both this.
import { Gauge, type Registry } from "prom-client";
import { lagSeconds, type RepositoryState } from "./lag.ts";

export interface CollectorLog {
  warn: (obj: object, msg: string) => void;
}

export function registerLagGauge(
  registry: Registry,
  definition: { name: string; help: string; labelNames: readonly string[] },
  series: ReadonlyArray<{ labels: Record<string, string>; state: () => RepositoryState | undefined }>,
  options: { connected: () => boolean; staleAfterMs: number; now: () => number; log?: CollectorLog | undefined },
): void {
  const { connected, staleAfterMs, now, log } = options;
  new Gauge({
    ...definition,
    registers: [registry],
    collect() {
      const at = now();
      for (const { labels, state } of series) {
        let value = Number.NaN;
        try {
          const known = state();
          value = known === undefined ? Number.NaN : lagSeconds(known, at, staleAfterMs, connected());
        } catch (error) {
          // A collector that throws fails the whole scrape; unknown is what we honestly have.
          log?.warn({ err: error, metric: definition.name }, "lag collector failed");
        }
        this.set(labels, value);
      }
    },
  });
}

/** Seconds; a boundary at each alert threshold (15 min, 1 h) and out to the two-day lags seen before. */
export const DELAY_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800];
