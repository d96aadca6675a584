// The check against the real broker and the local fakes of hg and Phabricator, through the command
// people run (`report-lag --once`, in-process).
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { changegroupV1, changegroupV2, commitsOf, otherTypeV2 } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const CENTRAL = "mozilla-central";
const DAY = 86_400;

const harness = harnessPerTest();

function lagOf(stdout: string, repository: string): number {
  const line = stdout.split("\n").find((l) => l.startsWith(`${repository} `));
  const match = /replication lag \(seconds\): (\d+)/.exec(line ?? "");
  if (!match) throw new Error(`no lag line for ${repository} in:\n${stdout}`);
  return Number(match[1]);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each([
  { mode: "with a Conduit token", token: true },
  { mode: "without a token (a commit page per commit)", token: false },
])("report-lag --once $mode", ({ token }) => {
  it("reports 0 and acks every push when the mirror has every commit", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token });
    const t = nowSeconds() - 600;
    for (let id = 101; id <= 105; id++) await h.push(AUTOLAND, id, t + id);

    const result = await h.run(["--once"]);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(await h.broker.depth()).toBe(0);
    const phabRequests = h.phab.requests;
    if (token) {
      // The callsign's repository PHID, once; then 20 commits in one diffusion.commit.search call
      // constrained to that PHID (the constraint takes PHIDs only).
      expect(phabRequests.map((r) => r.path)).toEqual(["/api/diffusion.repository.search", "/api/diffusion.commit.search"]);
      expect(phabRequests[0]?.params).toMatchObject({ constraints: { callsigns: ["MOZILLACENTRAL"] } });
      expect(phabRequests[1]?.params).toMatchObject({ constraints: { repositories: [h.phab.repositoryPHID("MOZILLACENTRAL")] }, limit: 100 });
    } else {
      // The repository page once, then one commit page per commit, read by its title (a HEAD cannot
      // tell a commit's page from "Commit Still Parsing" or the login form).
      expect(phabRequests).toHaveLength(21);
      expect(phabRequests[0]).toEqual({ method: "GET", path: "/diffusion/MOZILLACENTRAL/" });
      expect(phabRequests.slice(1).every((r) => r.method === "GET" && r.path.startsWith("/rMOZILLACENTRAL"))).toBe(true);
    }
    // Five consecutive pushes: one json-pushes request for the run.
    expect(h.hg.requests).toEqual([`GET /${AUTOLAND}/json-pushes?version=2&startID=100&endID=105`]);
  });

  it("reports the age of the oldest unmirrored push, whole days included, and keeps it and everything behind it queued in order", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token });
    const twoDaysAgo = nowSeconds() - 2 * DAY;
    await h.push(AUTOLAND, 200, twoDaysAgo - 60);
    await h.push(AUTOLAND, 201, twoDaysAgo, { mirrored: false });
    await h.push(AUTOLAND, 202, twoDaysAgo + 60);
    await h.push(AUTOLAND, 203, twoDaysAgo + 120);
    const before = await h.broker.peek();

    const result = await h.run(["--once"]);

    expect(result.code).toBe(0);
    const lag = lagOf(result.stdout, AUTOLAND);
    expect(lag).toBeGreaterThanOrEqual(2 * DAY);
    expect(lag).toBeLessThan(2 * DAY + 30);
    expect(result.stdout).toContain("(3 pushes pending)");
    expect(result.stdout).toContain("[push 201 not mirrored");
    // Push 200 was acked; 201 and the mirrored 202 and 203 behind it are still there, in order.
    expect(await h.broker.peek()).toEqual(before.slice(1));
  });

  it("acks the held-back pushes once the missing one reaches the mirror", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token });
    const t = nowSeconds() - 3600;
    const missing = await h.push(AUTOLAND, 300, t, { mirrored: false });
    await h.push(AUTOLAND, 301, t + 10);

    const first = await h.run(["--once"]);
    expect(lagOf(first.stdout, AUTOLAND)).toBeGreaterThanOrEqual(3600);
    expect(await h.broker.depth()).toBe(2);

    h.phab.mirror("MOZILLACENTRAL", missing);
    const second = await h.run(["--once"]);
    expect(second.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(await h.broker.depth()).toBe(0);
  });
});

describe("report-lag --once", () => {
  it("reports 0 for an empty queue", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const result = await h.run(["--once"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(h.hg.requests).toEqual([]);
  });

  it("skips other message types and empty pushes, sets malformed ones aside, and verifies the good ones", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 600;
    await h.broker.publish(AUTOLAND, otherTypeV2(h.hg.url, AUTOLAND, "obsolete.1"));
    await h.broker.publish(AUTOLAND, otherTypeV2(h.hg.url, AUTOLAND, "newrepo.1"));
    await h.push(AUTOLAND, 10, t);
    await h.broker.publish(AUTOLAND, changegroupV2(h.hg.url, AUTOLAND, []));
    await h.broker.publish(AUTOLAND, null, { raw: Buffer.from("{not json") });
    h.hg.addPush(AUTOLAND, { pushId: 11, date: t, user: "u", changesets: commitsOf(AUTOLAND, 11) });
    h.phab.mirror("MOZILLACENTRAL", commitsOf(AUTOLAND, 11));
    await h.broker.publish(AUTOLAND, changegroupV1(h.hg.url, AUTOLAND, [{ pushId: 11, time: t }]));

    const result = await h.run(["--once"]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${AUTOLAND} MOZILLACENTRAL replication lag (seconds): 0 (0 pushes pending)`);
    expect(await h.broker.depth()).toBe(0);
    const setAside = result.logs.filter((l) => l.msg === "set aside a malformed or foreign message").map((l) => l.reason);
    expect(setAside.sort()).toEqual(["not_json"]);
    const done = result.logs.find((l) => l.msg === "check done");
    expect(done).toMatchObject({ repository: AUTOLAND, verified: 2 });
    expect(h.hg.requests.every((r) => r.startsWith(`GET /${AUTOLAND}/json-pushes`))).toBe(true);
  });

  it("verifies a push delivered twice once, and acks both copies", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 50, t);
    await h.broker.publish(AUTOLAND, changegroupV2(h.hg.url, AUTOLAND, [{ pushId: 50, time: t }]));
    await h.push(AUTOLAND, 51, t + 1);

    const result = await h.run(["--once"]);

    expect(result.code).toBe(0);
    expect(result.logs.find((l) => l.msg === "check done")).toMatchObject({ verified: 2 });
    expect(await h.broker.depth()).toBe(0);
  });

  it("checks several repositories at once, each with its own lag", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`, `${CENTRAL}=MOZILLACENTRAL`, "releases/mozilla-beta=BETA"], token: true });
    const t = nowSeconds() - 7200;
    await h.push(AUTOLAND, 1, t);
    await h.push(CENTRAL, 1, t + 100, { mirrored: false });
    await h.push(AUTOLAND, 2, t + 200);
    await h.push(CENTRAL, 2, t + 300);

    const result = await h.run(["--once"]);

    expect(result.code).toBe(0);
    expect(lagOf(result.stdout, AUTOLAND)).toBe(0);
    const central = lagOf(result.stdout, CENTRAL);
    expect(central).toBeGreaterThanOrEqual(7100);
    expect(central).toBeLessThan(7130);
    expect(lagOf(result.stdout, "releases/mozilla-beta")).toBe(0);
    // Both of central's pushes stay; autoland's are gone.
    const left = (await h.broker.peek()).map((b) => (JSON.parse(b) as { payload: { data: { repo_url: string } } }).payload.data.repo_url);
    expect(left).toEqual([`${h.hg.url}/${CENTRAL}`, `${h.hg.url}/${CENTRAL}`]);
  });

  it("with --no-send leaves the queue exactly as it was, even when everything is mirrored", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 70, t);
    await h.broker.publish(AUTOLAND, otherTypeV2(h.hg.url, AUTOLAND, "obsolete.1"));
    await h.broker.publish(AUTOLAND, null, { raw: Buffer.from("garbage") });
    await h.push(AUTOLAND, 71, t + 1, { mirrored: false });
    await h.push(AUTOLAND, 72, t + 2);
    const before = await h.broker.peek();

    const result = await h.run(["--once", "--no-send"]);

    expect(result.code).toBe(0);
    expect(lagOf(result.stdout, AUTOLAND)).toBeGreaterThanOrEqual(599);
    expect(await h.broker.peek()).toEqual(before);
  });

  it("fails with exit code 1, and keeps every message, when hg.mozilla.org fails", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 5, nowSeconds() - 60);
    h.hg.fault = "500";

    const result = await h.run(["--once"], { UPSTREAM_TIMEOUT_SECONDS: "2" });

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/replication lag \(seconds\): unknown .*check failed: 127\.0\.0\.1:\d+ GET \/integration\/autoland\/json-pushes: HTTP 500/);
    expect(await h.broker.depth()).toBe(1);
  });

  it("fails with exit code 1 when the token is refused, and keeps every message", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 5, nowSeconds() - 60);

    const result = await h.run(["--once"], { PHABRICATOR_API_TOKEN: "api-wrongwrongwrongwrongwrongwron" });

    expect(result.code).toBe(1);
    expect(result.stdout).toContain("ERR-INVALID-AUTH");
    expect(result.stdout).not.toContain("api-wrong");
    expect(JSON.stringify(result.logs)).not.toContain("api-wrong");
    expect(await h.broker.depth()).toBe(1);
  });
});
