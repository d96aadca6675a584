// The fakes of hg.mozilla.org and Phabricator in a process of their own, so that the CPU they spend
// answering is not taken from the bench driver while it times the drain or its floor (with the fakes
// in the driver, a drain at 0 ms latency spent 3.9 s of the driver's CPU in them).
// Started by bench/run.ts with an IPC channel: it sends {hgUrl, phabUrl, token} once the backlog is
// loaded, answers "counts" with the requests each fake received, and exits when the channel closes.
import { startFakeHg } from "../test/support/fake-hg.ts";
import { startFakePhabricator } from "../test/support/fake-phabricator.ts";
import { commitsOf } from "../test/support/hgpush.ts";

export interface UpstreamBacklog {
  repository: string;
  callsign: string;
  pushes: number;
  commits: number;
  time: number;
  latencyMs: number;
  unmirroredFrom?: number;
}

export type UpstreamReady = { hgUrl: string; phabUrl: string; token: string };
export type UpstreamCounts = { hg: number; phab: number };

const backlog = JSON.parse(process.argv[2] as string) as UpstreamBacklog;
const hg = await startFakeHg();
const phab = await startFakePhabricator();
phab.addRepository(backlog.callsign);
for (let id = 1; id <= backlog.pushes; id++) {
  const changesets = commitsOf(backlog.repository, id, backlog.commits);
  hg.addPush(backlog.repository, { pushId: id, date: backlog.time, user: "tester@mozilla.com", changesets });
  if (backlog.unmirroredFrom === undefined || id < backlog.unmirroredFrom) phab.mirror(backlog.callsign, changesets);
}
hg.latencyMs = backlog.latencyMs;
phab.latencyMs = backlog.latencyMs;

process.on("message", (message) => {
  if (message === "counts") process.send?.({ hg: hg.requests.length, phab: phab.requests.length } satisfies UpstreamCounts);
});
process.on("disconnect", () => {
  void Promise.all([hg.close(), phab.close()]).then(() => process.exit(0));
});
process.send?.({ hgUrl: hg.url, phabUrl: phab.url, token: phab.token } satisfies UpstreamReady);
