import { describe, expect, it } from "vitest";
import { mirrorCommits } from "../../src/replication/mirror-commits.ts";

const HG = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
const GIT = ["1".repeat(40), "2".repeat(40), "3".repeat(40)];

describe("mirrorCommits", () => {
  it("asks an hg mirror for the hg nodes, whatever the Git hashes", () => {
    expect(mirrorCommits({ changesets: HG, gitChangesets: GIT }, "hg")).toEqual({ ids: HG, nullGit: 0 });
  });

  it("asks a Git mirror for the Git commits, in the same order", () => {
    expect(mirrorCommits({ changesets: HG, gitChangesets: GIT }, "git")).toEqual({ ids: GIT, nullGit: 0 });
  });

  it("leaves out a null Git hash and counts it: it neither blocks the push nor vouches for it", () => {
    expect(mirrorCommits({ changesets: HG, gitChangesets: [GIT[0] as string, null, GIT[2] as string] }, "git")).toEqual({
      ids: [GIT[0], GIT[2]],
      nullGit: 1,
    });
  });

  it("gives up a push whose changesets have no Git hash at all, rather than wait for it or count it mirrored", () => {
    expect(mirrorCommits({ changesets: HG, gitChangesets: [null, null, null] }, "git")).toEqual({ givenUp: "no_git_commit", nullGit: 3 });
    // A pushlog without git_changesets (none recorded) is the same.
    expect(mirrorCommits({ changesets: HG }, "git")).toEqual({ givenUp: "no_git_commit", nullGit: 3 });
  });

  it("verifies a push with no visible changeset (git_changesets absent) as an hg mirror would", () => {
    expect(mirrorCommits({ changesets: [] }, "git")).toEqual({ ids: [], nullGit: 0 });
  });
});
