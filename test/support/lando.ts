// Lando's Git push message as it is published on exchange/landoprod/pushes (Lando src/lando/pulse/pulse.py,
// read by mozilla-conduit/git-hg-sync git_hg_sync/pulse_worker.py and events.py): `{"payload": …}`,
// no `_meta`, `time` a string of UNIX seconds, `branches` each branch's new head only;
// `push_json_url` is Lando's placeholder (Bug 1957549).
export const FIREFOX_GIT = "https://github.com/mozilla-firefox/firefox";

export function landoPush(pushId: number, time: number, branches: Record<string, string>, options: { repoUrl?: string; tags?: Record<string, string> } = {}) {
  return {
    payload: {
      type: "push",
      repo_url: options.repoUrl ?? FIREFOX_GIT,
      branches,
      tags: options.tags ?? {},
      time: String(time),
      push_id: pushId,
      user: "lando@mozilla.com",
      push_json_url: "FIXME",
      push_full_json_url: "FIXME",
    },
  };
}
