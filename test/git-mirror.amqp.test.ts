// Repositories checked by their Git commits (REPOSITORIES `<path>=<CALLSIGN>:git`): the pushlog's
// git_changesets (hg pushes synced from Git by git-hg-sync; fake-hg serves them as
// hgext/pushlog/feed.py does) looked up in a Phabricator repository that knows Git hashes; and the
// same service checking another repository by its hg nodes.
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";
import { sampleIn } from "./support/scrape.ts";
import { commitsOf } from "./support/hgpush.ts";

const AUTOLAND = "integration/autoland";
const CENTRAL = "mozilla-central";
const harness = harnessPerTest();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("a repository checked as Git", () => {
  it("lags when its Git commits are missing although its hg nodes are mirrored, and the hg-checked one the other way round", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=FIREFOX:git`, `${CENTRAL}=MOZILLACENTRAL`], token: true });
    const t = nowSeconds();
    // autoland: push 1's Git commits are in FIREFOX (its hg nodes are not), push 2's hg nodes are (its Git commits are not).
    await h.push(AUTOLAND, 1, t - 1200, { mirrored: false, git: {} });
    await h.push(AUTOLAND, 2, t - 600, { git: { mirrored: false } });
    // mozilla-central: push 1's hg nodes are mirrored, push 2's only its Git commits.
    await h.push(CENTRAL, 1, t - 900, { git: { mirrored: false } });
    await h.push(CENTRAL, 2, t - 300, { mirrored: false, git: {} });

    const result = await h.run(["--once", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      repositories: Array<{ repository: string; mirror: string; lagSeconds: number; verified: number; stoppedAt: { pushId: number } }>;
    };
    const [autoland, central] = report.repositories;
    expect(autoland).toMatchObject({ repository: AUTOLAND, mirror: "FIREFOX", verified: 1, stoppedAt: { pushId: 2 } });
    expect(autoland?.lagSeconds).toBeGreaterThanOrEqual(600);
    expect(autoland?.lagSeconds).toBeLessThan(630);
    expect(central).toMatchObject({ repository: CENTRAL, mirror: "MOZILLACENTRAL", verified: 1, stoppedAt: { pushId: 2 } });
    expect(central?.lagSeconds).toBeGreaterThanOrEqual(300);
    expect(central?.lagSeconds).toBeLessThan(330);
    // Where autoland stopped is push 2's first Git commit (the harness's git-hg-sync stand-in), not its hg node.
    const stop = result.logs.find((l) => l.msg === "check done" && l.repository === AUTOLAND)?.stoppedAt as { reason: { node: string } };
    expect(stop.reason.node).toBe(commitsOf(`git:${AUTOLAND}`, 2, 4)[0]);
    expect(stop.reason.node).not.toBe(commitsOf(AUTOLAND, 2, 4)[0]);
  });

  it("a null Git hash does not block a push; a push with no Git hash at all is set aside, counted, and holds nothing up", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=FIREFOX:git`], token: true });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 1, t, { mirrored: false, git: { nullAt: [1] } });
    await h.push(AUTOLAND, 2, t + 60, { mirrored: false, git: { nullAt: [0, 1, 2, 3] } });
    await h.push(AUTOLAND, 3, t + 120, { mirrored: false, git: {} });
    const svc = await h.start([], { PHABRICATOR_API_TOKEN: h.phab.token });
    await svc.waitForLog("waiting for the next check");
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const labels = `{repository="${AUTOLAND}",callsign="FIREFOX"}`;
    expect(sampleIn(metrics, `phabmon_replication_lag_seconds${labels}`)).toBe(0);
    expect(sampleIn(metrics, `phabmon_pushes_verified_total${labels}`)).toBe(2);
    expect(sampleIn(metrics, 'phabmon_messages_rejected_total{reason="no_git_commit"}')).toBe(1);
    // Push 1's one null and push 2's four, counted once each, when they were settled.
    expect(sampleIn(metrics, `phabmon_git_null_changesets_total{repository="${AUTOLAND}"}`)).toBe(5);
    expect(svc.logs.some((l) => l.msg === "changesets without a Git hash in the pushlog (git_changesets null): not looked up in the Git mirror")).toBe(true);
    expect(await h.broker.depth()).toBe(0);
    const kept = await h.broker.peekWithHeaders(`${h.broker.queue}/rejected`);
    expect(kept.map((k) => k.headers["x-phabmon-reason"])).toEqual(["no_git_commit"]);
    svc.signal("SIGTERM");
    expect((await svc.finished).code).toBe(0);
  });

  it("display-lag <git hash> says where a Git commit has got to: landed, synced to hg as push N, in the Git mirror or not", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=FIREFOX:git`], token: true });
    const t = nowSeconds() - 600;
    await h.push(AUTOLAND, 1, t, { git: {} });
    await h.push(AUTOLAND, 2, t + 60, { git: { mirrored: false } });
    const mirrored = commitsOf(`git:${AUTOLAND}`, 1, 4)[2] as string;
    const waiting = commitsOf(`git:${AUTOLAND}`, 2, 4)[3] as string;
    const unknown = "e".repeat(40);
    const result = await h.run([mirrored, waiting, unknown], {}, "display-lag");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe(`${mirrored} (Git): landed`);
    expect(lines[1]).toMatch(new RegExp(`^  synced to hg ${AUTOLAND} as push 1 \\(.+\\), changeset ${commitsOf(AUTOLAND, 1, 4)[2] as string}$`));
    expect(lines[2]).toBe(`  in the Phabricator mirror FIREFOX (${AUTOLAND}, checked as Git)`);
    expect(lines[3]).toBe(`${waiting} (Git): landed`);
    expect(lines[4]).toMatch(/^  synced to hg integration\/autoland as push 2 /);
    expect(lines[5]).toBe(`  NOT in the Phabricator mirror FIREFOX (${AUTOLAND}, checked as Git)`);
    expect(lines.slice(6)).toEqual([
      `${unknown} (Git): not seen: not landed yet, or older than what was read`,
      `  NOT in hg ${AUTOLAND} (its last 2 pushes)`,
      `  NOT in the Phabricator mirror FIREFOX (${AUTOLAND}, checked as Git)`,
    ]);
  });
});
