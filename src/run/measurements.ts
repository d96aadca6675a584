// Measurements are values (src/run/check.ts): a check says which metric and how much, and the runner
// records them here, on the app's registry, once the broker has taken the acks.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Measurement } from "./check.ts";

export function measurementRecorder(registry: Registry): (measurement: Measurement) => void {
  return (measurement) => {
    const metric = registry.getSingleMetric(measurement.metric);
    const labels = measurement.labels ?? {};
    if ("observe" in measurement && metric instanceof Histogram) metric.observe(labels, measurement.observe);
    else if ("inc" in measurement && metric instanceof Counter) metric.inc(labels, measurement.inc);
    else if ("set" in measurement && metric instanceof Gauge) metric.set(labels, measurement.set);
    // A measurement of a metric no check declared is a wiring mistake, not input.
    else throw new Error(`no metric named ${measurement.metric} of the measurement's kind on the registry`);
  };
}
