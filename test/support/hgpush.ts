// hgpush messages in their wire shape (version-control-tools pylib/vcsreplicator/vcsreplicator/pulsenotifier.py, pushnotifications.py): the v2 envelope around changegroup.1 data.
import { createHash } from "node:crypto";

export const HG_PLACEHOLDER = "https://hg.mozilla.org";

/** A deterministic 40-hex node for a test commit. */
export function node(label: string): string {
  return createHash("sha1").update(label).digest("hex");
}

export function pushEntry(hgUrl: string, repository: string, pushId: number, time: number, user = "tester@mozilla.com") {
  const repoUrl = `${hgUrl}/${repository}`;
  return {
    pushid: pushId,
    user,
    time,
    push_json_url: `${repoUrl}/json-pushes?version=2&startID=${pushId - 1}&endID=${pushId}`,
    push_full_json_url: `${repoUrl}/json-pushes?version=2&full=1&startID=${pushId - 1}&endID=${pushId}`,
  };
}

export function changegroupV2(
  hgUrl: string,
  repository: string,
  pushes: Array<{ pushId: number; time: number }>,
  heads: string[] = [node(`${repository}-head`)],
) {
  return {
    payload: {
      type: "changegroup.1",
      data: {
        repo_url: `${hgUrl}/${repository}`,
        heads,
        source: "serve",
        pushlog_pushes: pushes.map((p) => pushEntry(hgUrl, repository, p.pushId, p.time)),
      },
    },
    _meta: { exchange: "exchange/hgpushes/v2", routing_key: repository, serializer: "json", sent: "2024-05-01T12:34:56.789012" },
  };
}

export function changegroupV1(hgUrl: string, repository: string, pushes: Array<{ pushId: number; time: number }>) {
  return {
    payload: {
      repo_url: `${hgUrl}/${repository}`,
      heads: [node(`${repository}-head`)],
      pushlog_pushes: pushes.map((p) => pushEntry(hgUrl, repository, p.pushId, p.time)),
    },
    _meta: { exchange: "exchange/hgpushes/v1", routing_key: repository, serializer: "json", sent: "2024-05-01T12:34:56" },
  };
}

export function otherTypeV2(hgUrl: string, repository: string, type: string) {
  return {
    payload: { type, data: { repo_url: `${hgUrl}/${repository}` } },
    _meta: { exchange: "exchange/hgpushes/v2", routing_key: repository, serializer: "json", sent: "2024-05-01T12:34:56" },
  };
}

/** The commits of push `pushId` of `repository` in a fixture: `count` deterministic nodes. */
export function commitsOf(repository: string, pushId: number, count = 4): string[] {
  return Array.from({ length: count }, (_, i) => node(`${repository}#${pushId}#${i}`));
}
