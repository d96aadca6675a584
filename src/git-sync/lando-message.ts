// Decodes one of Lando's Git push messages (exchange/landoprod/pushes) into the branch heads it
// announces, or says why it is set aside. The shape is Lando's src/lando/pulse/pulse.py as
// mozilla-conduit/git-hg-sync reads it (git_hg_sync/pulse_worker.py, events.py): a body
// `{"payload": {"type": "push", "repo_url", "branches": {branch: sha}, "tags", "time", "push_id", "user", …}}`
// with no `_meta`; `time` is a string of UNIX seconds (pydantic also takes a number); `branches` maps
// each branch to its new head only; a message with only tags carries no branch head. Pure.
import { z } from "zod";
import { MAX_MESSAGE_BYTES } from "../hgpush/hgpush-message.ts";
import { NODE_PATTERN } from "../core/json-shape.ts";

const SHA = z.string().regex(NODE_PATTERN, "not a 40-hex Git commit");

const payload = z.object({
  type: z.string(),
  repo_url: z.string().max(2000),
  branches: z.record(z.string().max(500), SHA).nullable().optional(),
  tags: z.record(z.string().max(500), SHA).nullable().optional(),
  time: z.union([z.string().regex(/^\d{1,10}$/, "not UNIX seconds"), z.number().int().nonnegative().lt(1e10)]),
  push_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  user: z.string().max(1000),
});

/** One branch's new head, as a push for the sync check to find in hg. */
export interface GitPush {
  branch: string;
  /** Lando's push id: Git pushes are ordered and deduplicated by it. */
  pushId: number;
  /** Unix seconds of the push to Git. */
  pushTime: number;
  head: string;
  user: string;
}

export type LandoMessage =
  | { kind: "pushes"; pushes: GitPush[] }
  | { kind: "skipped"; reason: "other_type" | "other_repository" | "no_watched_branch" }
  | { kind: "rejected"; reason: "too_large" | "not_json" | "schema"; detail: string };

/** Lando's repo_url and the configured one name the same repository whatever the case or a trailing `.git` or slash. */
function sameRepository(a: string, b: string): boolean {
  const norm = (u: string) =>
    u
      .trim()
      .toLowerCase()
      .replace(/\/+$/, "")
      .replace(/\.git$/, "");
  return norm(a) === norm(b);
}

export function decodeLandoMessage(body: Uint8Array, options: { repoUrl: string; branches: ReadonlySet<string> }): LandoMessage {
  if (body.byteLength > MAX_MESSAGE_BYTES) return { kind: "rejected", reason: "too_large", detail: `${body.byteLength} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
    // kombu may hand over a JSON string that holds the JSON body (git-hg-sync's on_task reads it again).
    if (typeof parsed === "string") parsed = JSON.parse(parsed);
  } catch (error) {
    return { kind: "rejected", reason: "not_json", detail: (error as Error).message.slice(0, 200) };
  }
  const inner = (parsed as { payload?: unknown } | null)?.payload;
  if (typeof inner !== "object" || inner === null) return { kind: "rejected", reason: "schema", detail: "no payload object" };
  const result = payload.safeParse(inner);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { kind: "rejected", reason: "schema", detail: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`.slice(0, 200) };
  }
  const p = result.data;
  if (p.type !== "push") return { kind: "skipped", reason: "other_type" };
  if (!sameRepository(p.repo_url, options.repoUrl)) return { kind: "skipped", reason: "other_repository" };
  const pushTime = Number(p.time);
  const pushes = Object.entries(p.branches ?? {})
    .filter(([branch]) => options.branches.has(branch))
    .map(([branch, head]) => ({ branch, pushId: p.push_id, pushTime, head, user: p.user }));
  return pushes.length === 0 ? { kind: "skipped", reason: "no_watched_branch" } : { kind: "pushes", pushes };
}
