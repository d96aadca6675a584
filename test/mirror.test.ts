import { describe, expect, it } from "vitest";
import { createMirrors, mirrorName, type Mirror, type MirrorSpec } from "../src/mirror.ts";

// A stand-in Mirror that records which factory built it; no service is asked.
const built =
  (how: string) =>
  (spec: MirrorSpec): Mirror => ({
    name: spec.callsign,
    how,
    exists: () => Promise.resolve(),
    has: () => Promise.resolve(new Set()),
  });

describe("the mirror port", () => {
  it("builds each repository's mirror from its own kind", () => {
    const mirrors = createMirrors(
      [
        { path: "integration/autoland", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } },
        { path: "releases/mozilla-beta", mirror: { kind: "phabricator-head", callsign: "BETA" } },
      ],
      { "phabricator-conduit": built("conduit"), "phabricator-head": built("head") },
    );
    expect([...mirrors].map(([path, m]) => [path, m.name, m.how])).toEqual([
      ["integration/autoland", "MOZILLACENTRAL", "conduit"],
      ["releases/mozilla-beta", "BETA", "head"],
    ]);
  });

  it("refuses a kind the root does not offer, naming it and the repository", () => {
    expect(() =>
      createMirrors([{ path: "mozilla-central", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } }], { "phabricator-head": built("head") }),
    ).toThrow("no mirror of kind phabricator-conduit is offered (repository mozilla-central)");
  });

  it("names a Phabricator mirror by its callsign, the contract's `callsign` label", () => {
    expect(mirrorName({ kind: "phabricator-head", callsign: "MOZILLACENTRAL" })).toBe("MOZILLACENTRAL");
  });
});
