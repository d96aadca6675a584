import { describe, expect, it } from "vitest";
import { unusableInput } from "../../src/hgpush/input-evidence.ts";

const HG = "https://hg.mozilla.org";
const monitored = new Set(["integration/autoland", "mozilla-central"]);
const pushes = (repository: string) => ({ kind: "pushes" as const, repository, pushes: [] });
const foreign = (origin?: string) => ({ kind: "rejected" as const, reason: "foreign_host" as const, detail: "repo_url …", ...(origin ? { origin } : {}) });
const schema = { kind: "rejected" as const, reason: "schema" as const, detail: "…" };

describe("unusableInput", () => {
  it("names the other host a message for a monitored repository points at, even beside good messages", () => {
    const reasons = unusableInput(
      [
        { routingKey: "integration/autoland", decoded: pushes("integration/autoland") },
        { routingKey: "integration/autoland", decoded: foreign("https://hg.example.org") },
      ],
      monitored,
      HG,
    );
    expect([...reasons]).toEqual([
      ["integration/autoland", "messages for integration/autoland name https://hg.example.org, but HG_URL is https://hg.mozilla.org"],
    ]);
  });

  it("says when every message for a repository was set aside, and not when one was usable", () => {
    expect(
      unusableInput(
        [
          { routingKey: "mozilla-central", decoded: schema },
          { routingKey: "mozilla-central", decoded: schema },
        ],
        monitored,
        HG,
      ).get("mozilla-central"),
    ).toBe("every message for mozilla-central in this check was set aside (2 schema); see phabmon_messages_rejected_total");
    expect(
      unusableInput(
        [
          { routingKey: "mozilla-central", decoded: schema },
          { routingKey: "mozilla-central", decoded: pushes("mozilla-central") },
        ],
        monitored,
        HG,
      ).size,
    ).toBe(0);
  });

  it("ignores repositories it does not monitor, and a repo_url on HG_URL's own origin is described, not named as another host", () => {
    expect(unusableInput([{ routingKey: "try", decoded: foreign("https://hg.example.org") }], monitored, HG).size).toBe(0);
    expect(unusableInput([{ routingKey: "mozilla-central", decoded: foreign(HG) }], monitored, HG).get("mozilla-central")).toBe(
      "messages for mozilla-central carry a repo_url that is not a repository below HG_URL https://hg.mozilla.org",
    );
  });
});
