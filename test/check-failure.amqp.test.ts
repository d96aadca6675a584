// A failed check keeps why it failed: the printed words, and the `reason` label of
// phabmon_check_failures_total, so that a Phabricator outage and a wrong callsign read apart.
import { describe, expect, it } from "vitest";
import { REPLICATION_FAILURE_REASONS as FAILURE_REASONS } from "../src/replication/metrics.ts";
import { harnessPerTest } from "./support/per-test.ts";
import { sampleIn } from "./support/scrape.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

function failuresByReason(text: string): Record<string, number | undefined> {
  return Object.fromEntries(
    FAILURE_REASONS.map((reason) => [reason, sampleIn(text, `phabmon_check_failures_total{repository="${AUTOLAND}",reason="${reason}"}`)]),
  );
}

describe("the reason a check failed", () => {
  it("is mirror for a Phabricator that answers 500, unknown_repository for a wrong callsign; every other reason stays 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowSeconds() - 600);
    h.phab.fault = "500";
    const down = await h.start([], { UPSTREAM_TIMEOUT_SECONDS: "1" });
    await down.waitForLog("check failed");
    const during = failuresByReason(await (await fetch(`${down.url}/metrics`)).text());
    down.signal("SIGTERM");
    await down.waitForLog("stopped");
    expect(during).toEqual({ ...Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])), mirror: 1 });

    h.phab.fault = "none";
    const wrong = await h.start([], { REPOSITORIES: `${AUTOLAND}=MOZILLACENTRL` });
    await wrong.waitForLog("check failed");
    const after = failuresByReason(await (await fetch(`${wrong.url}/metrics`)).text());
    wrong.signal("SIGTERM");
    await wrong.waitForLog("stopped");
    expect(after).toEqual({ ...Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])), unknown_repository: 1 });
    expect(await h.broker.depth()).toBe(1);
  });
});
