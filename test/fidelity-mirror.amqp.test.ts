// The mirror is asked as Phabricator answers: diffusion.commit.search's `repositories` takes
// repository PHIDs only (a callsign there matches nothing and the answer is an empty list with no
// error), so the callsign is resolved with diffusion.repository.search first.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("the mirror check with a Conduit token", () => {
  it("sees mirrored commits as mirrored: the callsign's PHID is resolved once and sent in `repositories`", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowSeconds() - 600);

    const first = await h.run(["--once"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(await h.broker.depth()).toBe(0);

    const searches = h.phab.requests.filter((r) => r.path === "/api/diffusion.commit.search");
    expect(searches.map((r) => (r.params?.constraints as { repositories: string[] }).repositories)).toEqual([[h.phab.repositoryPHID("MOZILLACENTRAL")]]);
    expect(h.phab.calls("diffusion.repository.search")).toBe(1);
  });

  it("an unknown callsign fails the check with a line naming REPOSITORIES and the callsign, reports no lag and keeps the message", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowSeconds() - 600);

    const result = await h.run(["--once"], { REPOSITORIES: `${AUTOLAND}=MOZILLACENTRL` });

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRL replication lag (seconds): unknown`);
    expect(result.stdout).toContain("REPOSITORIES: Phabricator has no repository with the callsign MOZILLACENTRL");
    expect(h.phab.calls("diffusion.commit.search")).toBe(0);
    expect(await h.broker.depth()).toBe(1);
  });

  it("an unknown callsign is unknown even with nothing on the queue, never a healthy 0", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--once"], { REPOSITORIES: `${AUTOLAND}=NOSUCH` });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${AUTOLAND} NOSUCH replication lag (seconds): unknown`);
  });

  it("without a token, an unknown callsign is found by its repository page, not read as a commit missing for ever", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: false });
    await h.push(AUTOLAND, 1, nowSeconds() - 600);
    const result = await h.run(["--once"], { REPOSITORIES: `${AUTOLAND}=NOSUCH` });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("replication lag (seconds): unknown");
    expect(result.stdout).toContain("callsign NOSUCH");
    expect(h.phab.requests.filter((r) => r.path.startsWith("/rNOSUCH"))).toEqual([]);
  });
});

describe("report-lag --check-config", () => {
  it("with a token says whether each callsign exists, and exits 2 for one that does not", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`, "mozilla-central=MOZILLACENTRAL"], token: true });

    const good = await h.run(["--check-config"]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`callsign MOZILLACENTRAL: repository ${h.phab.repositoryPHID("MOZILLACENTRAL")}`);

    const bad = await h.run(["--check-config"], { REPOSITORIES: `${AUTOLAND}=MOZILLACENTRAL,mozilla-central=CENTRAL` });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("configuration error: REPOSITORIES: Phabricator has no repository with the callsign CENTRAL\n");
    // Only the problem: nothing that reads as valid, not even the callsign that was found.
    expect(bad.stdout).toBe("");
  });

  it("without a token checks each callsign by its repository page; with Phabricator down says so and does not fail the release", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const noToken = await h.run(["--check-config"], { PHABRICATOR_API_TOKEN: undefined });
    expect(noToken.code).toBe(0);
    expect(noToken.stdout).toContain("callsign MOZILLACENTRAL: its repository page is readable without a token");
    const unknown = await h.run(["--check-config"], { PHABRICATOR_API_TOKEN: undefined, REPOSITORIES: `${AUTOLAND}=NOSUCH` });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("configuration error: REPOSITORIES: Phabricator has no repository with the callsign NOSUCH\n");

    h.phab.fault = "500";
    const down = await h.run(["--check-config"], { UPSTREAM_TIMEOUT_SECONDS: "2" });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain("callsigns: not checked, Phabricator did not answer");
    expect(down.stdout + down.stderr).not.toContain(h.phab.token);
  });
});
