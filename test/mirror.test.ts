import { describe, expect, it } from "vitest";
import { conduitMirror, headMirror, type ConduitClient } from "../src/adapters/phabricator.ts";
import type { Upstream } from "../src/adapters/upstream.ts";
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

// A ConduitClient answering as Phabricator does: diffusion.repository.search rows carry `phid` and
// `fields.callsign` (the recorded answer in ../shared/real-data,
// conduit-diffusion.repository.search-mozilla-central-nss.code-review.json, checked against the HTTP
// fake in test/fakes.test.ts); an unknown callsign is an empty list, not an error
// (DiffusionRepositorySearchEngine). diffusion.commit.search rows carry `fields.identifier` and
// `fields.repositoryPHID`.
function conduitOf(answers: Array<"ok" | "fail">) {
  const calls: string[] = [];
  const client: ConduitClient = {
    // The mirror asks only through search.
    call: (method) => Promise.reject(new Error(`not expected: ${method}`)),
    search(method, params) {
      calls.push(method);
      if (method === "diffusion.repository.search") {
        const answer = answers.shift() ?? "ok";
        if (answer === "fail") return Promise.reject(new Error("phabricator: HTTP 503 after 3 attempts"));
        return Promise.resolve([{ phid: "PHID-REPO-aaaaaaaaaaaaaaaaaaaa", fields: { callsign: "MOZILLACENTRAL", vcs: "hg" } }]);
      }
      const { identifiers } = (params as { constraints: { identifiers: string[] } }).constraints;
      return Promise.resolve(identifiers.map((identifier) => ({ fields: { identifier, repositoryPHID: "PHID-REPO-aaaaaaaaaaaaaaaaaaaa" } })));
    },
  };
  return { client, calls };
}

describe("the Conduit kind", () => {
  it("looks the repository up once when the check asks for it and for commits at the same time", async () => {
    const { client, calls } = conduitOf(["ok"]);
    const mirror = conduitMirror(client, "MOZILLACENTRAL");
    const [, have] = await Promise.all([mirror.exists(), mirror.has(["a".repeat(40)])]);
    expect(have).toEqual(new Set(["a".repeat(40)]));
    await mirror.exists();
    expect(calls).toEqual(["diffusion.repository.search", "diffusion.commit.search"]);
  });

  it("asks again after a failed lookup, and those waiting on the failed one see its error", async () => {
    const { client, calls } = conduitOf(["fail", "ok"]);
    const mirror = conduitMirror(client, "MOZILLACENTRAL");
    const both = await Promise.allSettled([mirror.exists(), mirror.has(["a".repeat(40)])]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await mirror.exists();
    expect(calls).toEqual(["diffusion.repository.search", "diffusion.repository.search"]);
  });
});

describe("the HEAD kind", () => {
  it("asks for the repository page once when the check asks for it and for commits at the same time", async () => {
    const paths: string[] = [];
    // Phabricator answers 200 for a repository page and a commit page it has (DiffusionController);
    // a HEAD has no body.
    const upstream: Upstream = {
      service: "phabricator",
      baseUrl: "https://phabricator.example",
      request: (req) => {
        paths.push(req.path);
        return Promise.resolve({ status: 200, text: "" });
      },
      close: () => Promise.resolve(),
    };
    const mirror = headMirror(upstream, "MOZILLACENTRAL", 4);
    await Promise.all([mirror.exists(), mirror.has(["b".repeat(40)])]);
    await mirror.exists();
    expect(paths).toEqual(["/diffusion/MOZILLACENTRAL/", `/rMOZILLACENTRAL${"b".repeat(40)}`]);
  });
});
