// Recognises the code-review bot's commit in a Try push (mozilla/code-review bot/code_review_bot/vcs.py): its description starts
// `try_task_config for` and its last line is `Differential Diff: PHID-DIFF-…`. Pure.

export interface TryChangeset {
  node: string;
  author: string;
  desc: string;
}

export interface ReviewCommit {
  node: string;
  diffPHID: string;
  /** The revision number from `try_task_config for https://…/D123`; absent for `try_task_config for code-review`. */
  revisionId?: number;
}

const DIFF_LINE = /^Differential Diff: (PHID-DIFF-[a-z0-9]+)$/;
const REVISION = /^try_task_config for \S*\/D(\d+)\s*$/;

/**
 * The bot's commit of a Try push, or undefined for a push people made themselves. The bot's commit is
 * the tip, but the whole push is searched: a commit added after it would not change whose push it is.
 */
export function findReviewCommit(changesets: readonly TryChangeset[]): ReviewCommit | undefined {
  for (let i = changesets.length - 1; i >= 0; i--) {
    const changeset = changesets[i] as TryChangeset;
    if (!changeset.desc.startsWith("try_task_config for")) continue;
    const lines = changeset.desc.trimEnd().split("\n");
    const diff = DIFF_LINE.exec((lines.at(-1) ?? "").trim());
    if (!diff) continue;
    const revision = REVISION.exec(lines[0] ?? "");
    return {
      node: changeset.node,
      diffPHID: diff[1] as string,
      ...(revision ? { revisionId: Number(revision[1]) } : {}),
    };
  }
  return undefined;
}

/** The name of the file the bot's commit adds (mozilla/code-review bot/code_review_bot/vcs.py). */
export const TRY_TASK_CONFIG = "try_task_config.json";

/**
 * The bot's own build target from the text of its try_task_config.json:
 * `{"version": 2, "parameters": {…, "phabricator_diff": "PHID-HMBT-…"}}` (mozilla/code-review
 * bot/code_review_bot/vcs.py: `phabricator_diff` is `build.target_phid`). Undefined when the file is
 * not that.
 */
export function targetOfTryTaskConfig(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const target = (json as { parameters?: { phabricator_diff?: unknown } } | null)?.parameters?.phabricator_diff;
  return typeof target === "string" && /^PHID-HMBT-[a-z0-9]+$/.test(target) ? target : undefined;
}
