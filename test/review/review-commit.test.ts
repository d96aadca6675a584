import { describe, expect, it } from "vitest";
import { findReviewCommit } from "../../src/review/review-commit.ts";

const BOT = "code review bot <release-mgmt-analysis@mozilla.com>";
// The shape of json-pushes full=1 (version-control-tools hgext/pushlog/feed.py) and of the bot's commits (mozilla/code-review bot/code_review_bot/vcs.py): a stacked patch, then the bot's try_task_config commit.
const patch = {
  node: "a".repeat(40),
  author: "Thomas Nguyen <tnguyen@mozilla.com>",
  desc: "Bug 1546334 - Add a thing\n\nDifferential Revision: https://phabricator.services.mozilla.com/D36474\nDifferential Diff: PHID-DIFF-aaaaaaaaaaaaaaaaaaaa",
};
const config = {
  node: "5ec034a3e77223ee58d2bad5689b99e09c61a4bb",
  author: BOT,
  desc: "try_task_config for https://phabricator.services.mozilla.com/D36474\nDifferential Diff: PHID-DIFF-mpa55sfv2atas4tghu6m",
};

describe("findReviewCommit", () => {
  it("finds the bot's try_task_config commit and the target diff on its last line", () => {
    expect(findReviewCommit([patch, config])).toEqual({ node: config.node, diffPHID: "PHID-DIFF-mpa55sfv2atas4tghu6m", revisionId: 36474 });
  });

  it("reads the `try_task_config for code-review` form, which names no revision", () => {
    const commit = findReviewCommit([{ ...config, desc: "try_task_config for code-review\nDifferential Diff: PHID-DIFF-xyz0123" }]);
    expect(commit).toEqual({ node: config.node, diffPHID: "PHID-DIFF-xyz0123" });
  });

  it("does not take a stacked patch's own Differential Diff line for the bot's commit", () => {
    expect(findReviewCommit([patch])).toBeUndefined();
  });

  it("leaves people's own Try pushes alone, even ones with a try_task_config commit of their own", () => {
    expect(findReviewCommit([{ node: "b".repeat(40), author: "Dev <dev@example.com>", desc: "try_task_config for build\n\nmore text" }])).toBeUndefined();
    expect(findReviewCommit([])).toBeUndefined();
    expect(findReviewCommit([{ ...config, desc: "Bug 1 - try_task_config for x\nDifferential Diff: PHID-DIFF-abc" }])).toBeUndefined();
  });

  it("tolerates a trailing newline and rejects a malformed PHID", () => {
    expect(findReviewCommit([{ ...config, desc: `${config.desc}\n` }])?.diffPHID).toBe("PHID-DIFF-mpa55sfv2atas4tghu6m");
    expect(findReviewCommit([{ ...config, desc: "try_task_config for code-review\nDifferential Diff: PHID-DREV-abc" }])).toBeUndefined();
  });
});
