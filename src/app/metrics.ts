// The app's registry: prom-client's process metrics, the event-loop series, and the build's identity.
// Every other series is declared by the part of the service that sets it (each check's metrics.ts,
// src/pulse/metrics.ts, src/upstream/metrics.ts, src/run/message-metrics.ts), on this registry.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** prom-client's event-loop series: all are set by one collector, which the registry then no longer runs. */
const EVENT_LOOP_SERIES = ["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"].map((s) => `nodejs_eventloop_lag${s}_seconds`);

/**
 * prom-client's event-loop collector reads the delay histogram's mean and standard deviation at every
 * scrape, and Node computes each by walking the whole histogram: 0.4 ms, more than a tenth of a scrape's
 * CPU on the 2-core machines here. Min, max and percentiles of the same histogram cost microseconds:
 * those series are kept under prom-client's names and meaning (the delays since the last scrape).
 */
function replaceEventLoopCollector(registry: Registry): void {
  for (const name of EVENT_LOOP_SERIES) registry.removeSingleMetric(name);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const stats: Array<[string, () => number]> = [
    ["min", () => histogram.min],
    ["max", () => histogram.max],
    ["p50", () => histogram.percentile(50)],
    ["p90", () => histogram.percentile(90)],
    ["p99", () => histogram.percentile(99)],
  ];
  const gauges = stats.map(
    ([stat], i) =>
      new Gauge({
        name: `nodejs_eventloop_lag_${stat}_seconds`,
        help: `The ${stat} of the event loop delays recorded since the last scrape.`,
        registers: [registry],
        // The registry reads its metrics in order: the first one's collect sets all of them.
        ...(i === 0 ? { collect: () => setAll() } : {}),
      }),
  );
  const setAll = () => {
    // Nothing recorded since the last scrape (scrapes closer than the 10 ms resolution): unknown.
    const recorded = histogram.count > 0;
    stats.forEach(([, read], i) => gauges[i]?.set(recorded ? read() / 1e9 : Number.NaN));
    histogram.reset();
  };
}

/** The registry, with prom-client's process metrics and the build's identity. */
export function createRegistry(build: { version: string; commit: string }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  replaceEventLoopCollector(registry);
  const buildInfo = new Gauge({
    name: "phabmon_build_info",
    help: "Always 1; the labels say which build is running.",
    labelNames: ["version", "commit"],
    registers: [registry],
  });
  buildInfo.set({ version: build.version, commit: build.commit }, 1);
  return registry;
}
