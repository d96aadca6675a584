import { describe, expect, it } from "vitest";
import { createMetrics } from "../src/metrics.ts";

const repositories = [
  { path: "integration/autoland", callsign: "MOZILLACENTRAL" },
  { path: "mozilla-central", callsign: "MOZILLACENTRAL" },
];

describe("createMetrics", () => {
  it("computes the lag at scrape time, with the scrape's clock", async () => {
    let now = 1_000_000;
    const metrics = createMetrics({ repositories, version: "1", commit: "c", now: () => now, lag: { lagSeconds: (repo, at) => (repo === "mozilla-central" ? Number.NaN : (at - 1_000_000) / 1000) } });
    now += 42_000;
    const text = await metrics.registry.metrics();
    expect(text).toContain('phabmon_replication_lag_seconds{repository="integration/autoland",callsign="MOZILLACENTRAL"} 42');
    expect(text).toMatch(/phabmon_replication_lag_seconds\{repository="mozilla-central",callsign="MOZILLACENTRAL"\} nan/i);
  });

  it("keeps the scrape working when the lag collector throws, reporting NaN and a warning", async () => {
    const warnings: string[] = [];
    const metrics = createMetrics({
      repositories,
      version: "1",
      commit: "c",
      lag: {
        lagSeconds: () => {
          throw new Error("state is broken");
        },
      },
      log: { warn: (obj, msg) => warnings.push(`${msg}: ${JSON.stringify(obj)}`) },
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/phabmon_replication_lag_seconds\{repository="integration\/autoland",callsign="MOZILLACENTRAL"\} nan/i);
    expect(text).toContain("phabmon_build_info");
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining("state is broken")]));
  });

  it("exports the series that will exist at zero from the start", async () => {
    const metrics = createMetrics({ repositories, version: "1", commit: "c", lag: { lagSeconds: () => Number.NaN } });
    const text = await metrics.registry.metrics();
    expect(text).toContain('phabmon_pushes_verified_total{repository="mozilla-central",callsign="MOZILLACENTRAL"} 0');
    expect(text).toContain('phabmon_check_failures_total{repository="integration/autoland"} 0');
    expect(text).toContain("phabmon_pulse_connected 0");
    expect(text).toContain('phabmon_upstream_request_failures_total{service="phabricator"} 0');
  });
});
