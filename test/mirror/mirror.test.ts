import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commitPageSays, conduitMirror, pageMirror, repositoryPageSays, type ConduitClient } from "../../src/phabricator/phabricator.ts";
import type { Upstream } from "../../src/upstream/upstream.ts";
import { createMirrors, mirrorName, type Mirror, type MirrorSpec } from "../../src/mirror/mirror.ts";

const SERVED = new URL("../../../shared/real-data/served/phorge/", import.meta.url);

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
        { path: "releases/mozilla-beta", mirror: { kind: "phabricator-page", callsign: "BETA" } },
      ],
      { "phabricator-conduit": built("conduit"), "phabricator-page": built("head") },
    );
    expect([...mirrors].map(([path, m]) => [path, m.name, m.how])).toEqual([
      ["integration/autoland", "MOZILLACENTRAL", "conduit"],
      ["releases/mozilla-beta", "BETA", "head"],
    ]);
  });

  it("refuses a kind the root does not offer, naming it and the repository", () => {
    expect(() =>
      createMirrors([{ path: "mozilla-central", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } }], { "phabricator-page": built("head") }),
    ).toThrow("no mirror of kind phabricator-conduit is offered (repository mozilla-central)");
  });

  it("names a Phabricator mirror by its callsign, the contract's `callsign` label", () => {
    expect(mirrorName({ kind: "phabricator-page", callsign: "MOZILLACENTRAL" })).toBe("MOZILLACENTRAL");
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

describe("the page kind (no token)", () => {
  const page = (status: number, title: string, location?: string) => ({
    status,
    contentType: "text/html",
    text: `<!DOCTYPE html><html><head><title>${title}</title></head><body></body></html>`,
    location,
    what: "phabricator.example GET /x",
  });
  const node = "b".repeat(40);
  function upstreamOf(answer: (path: string) => ReturnType<typeof page>) {
    const paths: string[] = [];
    const upstream: Upstream = {
      service: "phabricator",
      baseUrl: "https://phabricator.example",
      request: (req) => {
        paths.push(`${req.method} ${req.path}`);
        return Promise.resolve(answer(req.path));
      },
      close: () => Promise.resolve(),
    };
    return { upstream, paths };
  }

  it("asks for the repository page once when the check asks for it and for commits at the same time", async () => {
    const { upstream, paths } = upstreamOf((path) =>
      path.startsWith("/diffusion/") ? page(302, "", "https://phabricator.example/source/mozilla-central/") : page(200, `rMOZILLACENTRAL${node.slice(0, 12)}`),
    );
    const mirror = pageMirror(upstream, "MOZILLACENTRAL", 4);
    const [, have] = await Promise.all([mirror.exists(), mirror.has([node])]);
    await mirror.exists();
    expect(have).toEqual(new Set([node]));
    expect(paths).toEqual(["GET /diffusion/MOZILLACENTRAL/", `GET /rMOZILLACENTRAL${node}`]);
  });

  it("stops with a line saying a token is needed when every page is the login form", async () => {
    const { upstream } = upstreamOf(() => page(200, "Login"));
    const mirror = pageMirror(upstream, "MOZILLACENTRAL", 4);
    await expect(mirror.has([node])).rejects.toThrow(
      /^PHABRICATOR_API_TOKEN: needed for MOZILLACENTRAL: anonymous requests to https:\/\/phabricator.example get Phabricator's login page/,
    );
  });

  it("reads a commit still parsing as not mirrored, and a redirect elsewhere as no proof", async () => {
    const parsing = upstreamOf((path) =>
      path.startsWith("/diffusion/") ? page(200, "mozilla-central \u00b7 rMOZILLACENTRAL") : page(200, "Commit Still Parsing"),
    );
    expect(await pageMirror(parsing.upstream, "MOZILLACENTRAL", 4).has([node])).toEqual(new Set());
    const away = upstreamOf(() => page(302, "", "https://login.example/auth/"));
    await expect(pageMirror(away.upstream, "MOZILLACENTRAL", 4).exists()).rejects.toThrow(/HTTP 302, .*neither the repository nor a 404/);
  });
});

// What the service concludes from each page real Phorge served an anonymous visitor
// (../shared/real-data/served/phorge, README there): the repository page and the commit page of a
// known, unknown, still-parsing (null revision) and nonexistent-repository commit, on a public
// instance with and without a short name and on a private one.
describe.runIf(existsSync(SERVED))("the page kind reads real Phorge's pages", () => {
  const served = (name: string) =>
    JSON.parse(readFileSync(new URL(`${name}.json`, SERVED), "utf8")) as {
      response: { status: number; title: string | null; location: string | null };
    };
  const pageOf = (name: string) => {
    const { response } = served(name);
    return { status: response.status, title: response.title ?? undefined, location: response.location ?? undefined };
  };
  const origin = "http://127.0.0.1:19080";
  const known = "074ac3b0e8439f0b1b6a57165fe2266d7c785978";

  it.each([
    ["repository-page-anonymous-public-GET", "exists"],
    ["repository-page-anonymous-public-no-shortname-GET", "exists"],
    ["repository-page-anonymous-private-GET", "login"],
    ["repository-page-nosuch-anonymous-public-GET", "unknown"],
    ["repository-page-nosuch-anonymous-public-no-shortname-GET", "unknown"],
    ["repository-page-nosuch-anonymous-private-GET", "login"],
  ])("%s: %s", (name, expected) => {
    const callsign = name.includes("nosuch") ? "NOSUCH" : "MOZILLACENTRAL";
    expect(repositoryPageSays(callsign, pageOf(name), origin)).toBe(expected);
  });

  it.each([
    ["commit-page-r-known-anonymous-public-GET", known, "mirrored"],
    ["commit-page-r-known-anonymous-public-no-shortname-GET", known, "mirrored"],
    ["commit-page-r-unknown-anonymous-public-GET", "d9d13937e92a01308cff476a0891125ac00e60d1", "missing"],
    ["commit-page-r-null-node-anonymous-public-GET", "0".repeat(40), "missing"],
    ["commit-page-r-known-anonymous-private-GET", known, "login"],
    ["commit-page-r-unknown-anonymous-private-GET", "d9d13937e92a01308cff476a0891125ac00e60d1", "login"],
    ["commit-page-r-null-node-anonymous-private-GET", "0".repeat(40), "login"],
  ])("%s: %s", (name, commit, expected) => {
    expect(commitPageSays("MOZILLACENTRAL", commit, pageOf(name))).toBe(expected);
  });
});
