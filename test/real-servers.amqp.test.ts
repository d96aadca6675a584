// The five places where the service was wrong against the real server software (a real Phorge and a
// real Mercurial serving Mozilla's pushlog, ../shared/real-data/served), each against the fakes that now
// answer as those did: a repository with a short name without a token; an instance anonymous users cannot
// see; one meaning of "in the mirror" in both modes; tipsonly over a stripped push (in
// test/pipeline.amqp.test.ts, the read-back and display-lag D…); a changeset with no push; error pages
// that are not JSON.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { commitsOf } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const harness = harnessPerTest();
const nowS = () => Math.floor(Date.now() / 1000);
const NEEDS_TOKEN = /PHABRICATOR_API_TOKEN: needed for MOZILLACENTRAL: anonymous requests to http:\/\/127\.0\.0\.1:\d+ get Phabricator's login page/;

describe("without a token", () => {
  it("a repository with a short name is found through its 302 to /source/<short name>/", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=CENTRAL`], token: false });
    // Mozilla's mozilla-central has the short name "mozilla-central" (DiffusionController::loadContext redirects).
    h.phab.addRepository("MOZILLACENTRAL", { shortName: "mozilla-central" });
    await h.push(AUTOLAND, 1, nowS() - 600, { callsign: "MOZILLACENTRAL" });
    const result = await h.run(["--once"], { REPOSITORIES: `${AUTOLAND}=MOZILLACENTRAL` });
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(result.code).toBe(0);
    expect(await h.broker.depth()).toBe(0);
  });

  it("on an instance anonymous users cannot see, stops with a line saying a token is needed: no false 0, nothing acked", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: false });
    h.phab.anonymous = "private";
    await h.push(AUTOLAND, 1, nowS() - 600, { mirrored: false });
    const result = await h.run(["--once"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): unknown`);
    expect(result.stdout).toMatch(NEEDS_TOKEN);
    expect(await h.broker.depth()).toBe(1);
    // An unknown callsign reads the same there: a login page is never a repository, nor a 404.
    const unknown = await h.run(["--once"], { REPOSITORIES: `${AUTOLAND}=NOSUCH` });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("PHABRICATOR_API_TOKEN: needed for NOSUCH");
    const check = await h.run(["--check-config"]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(new RegExp(`^configuration error: ${NEEDS_TOKEN.source}`));
  });
});

describe('one meaning of "in the mirror": Phabricator has a row for the commit', () => {
  it.each([
    { mode: "without a token", token: false },
    { mode: "with a token", token: true },
  ])("$mode: a commit still parsing is not mirrored, a discovered one is (import finished or not)", async ({ token }) => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token });
    const t = nowS() - 600;
    // Push 1 discovered (a row, isImported false); push 2 pulled into the working copy only ("Commit Still Parsing").
    await h.push(AUTOLAND, 1, t, { mirrored: false });
    await h.push(AUTOLAND, 2, t + 60, { mirrored: false });
    h.phab.discover("MOZILLACENTRAL", commitsOf(AUTOLAND, 1));
    h.phab.pull("MOZILLACENTRAL", commitsOf(AUTOLAND, 2));
    const result = await h.run(["--once", "--json"]);
    expect(result.code).toBe(0);
    const [repo] = (JSON.parse(result.stdout) as { repositories: Array<{ verified: number; stoppedAt: { pushId: number } | null }> }).repositories;
    expect(repo?.verified).toBe(1);
    expect(repo?.stoppedAt?.pushId).toBe(2);
    expect(await h.broker.depth()).toBe(1);
  });
});

describe("hg.mozilla.org's answers as they are", () => {
  it("display-lag reads a changeset with no push (older than the pushlog) as such, not as an unexpected shape", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const node = "2fe1b62abf6a3c7b783533e6b783e5e2f438eb3a";
    h.hg.addPulledChangeset(AUTOLAND, { node, desc: "Bug 7 - from before the pushlog" });
    h.phab.mirror("MOZILLACENTRAL", [node]);
    const result = await h.run([node], {}, "display-lag");
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${node} ${AUTOLAND} MOZILLACENTRAL: in the mirror (no push: older than the pushlog); replication lag (seconds): 0\n`);
    expect(result.code).toBe(0);
  });

  it("a repository hg.mozilla.org does not serve (its 404 HTML page) is one line naming host, path and status", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const shown = await h.run(["0".repeat(40)], { REPOSITORIES: "no/such-repo=MOZILLACENTRAL" }, "display-lag");
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(
      /^display-lag: 127\.0\.0\.1:\d+ GET \/no\/such-repo\/json-rev\/0{40}: HTTP 404, content type text\/html, \d+ bytes: no such repository on HG_URL\n$/,
    );
  });

  it("a plain-text 500 is one line naming host, path and status, never a parse error", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowS() - 60);
    h.hg.fault = "500";
    const result = await h.run(["--once"], { UPSTREAM_TIMEOUT_SECONDS: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\[check failed: 127\.0\.0\.1:\d+ GET \/integration\/autoland\/json-pushes: HTTP 500 after 3 attempts\]\n$/);
    expect(result.stdout).not.toMatch(/JSON|Unexpected token/);
  });
});
