import { describe, expect, it } from "vitest";
import { decodeLandoMessage } from "../../src/git-sync/lando-message.ts";
import { FIREFOX_GIT, landoPush } from "../support/lando.ts";

const HEAD = "0123456789abcdef0123456789abcdef01234567";
const options = { repoUrl: FIREFOX_GIT, branches: new Set(["autoland", "beta"]) };
const decode = (body: unknown) => decodeLandoMessage(Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), options);

describe("decodeLandoMessage", () => {
  it("reads each watched branch's new head, with the push id and the time given as a string of UNIX seconds", () => {
    expect(decode(landoPush(1234, 1764720000, { autoland: HEAD, main: HEAD }))).toEqual({
      kind: "pushes",
      pushes: [{ branch: "autoland", pushId: 1234, pushTime: 1764720000, head: HEAD, user: "lando@mozilla.com" }],
    });
  });

  it("takes a numeric time and a body that kombu wrapped in a JSON string, as git-hg-sync does", () => {
    const body = landoPush(7, 1764720000, { beta: HEAD });
    expect(decode({ payload: { ...body.payload, time: 1764720000 } })).toMatchObject({ kind: "pushes", pushes: [{ pushTime: 1764720000 }] });
    expect(decode(JSON.stringify(JSON.stringify(body)))).toMatchObject({ kind: "pushes", pushes: [{ branch: "beta" }] });
  });

  it("skips what is not a watched branch's push: tags only, other branches, other repositories, other types", () => {
    expect(decode(landoPush(1, 1, {}, { tags: { FIREFOX_NIGHTLY: HEAD } }))).toEqual({ kind: "skipped", reason: "no_watched_branch" });
    expect(decode(landoPush(1, 1, { main: HEAD }))).toEqual({ kind: "skipped", reason: "no_watched_branch" });
    expect(decode(landoPush(1, 1, { autoland: HEAD }, { repoUrl: "https://github.com/mozilla-firefox/other" }))).toEqual({
      kind: "skipped",
      reason: "other_repository",
    });
    expect(decode(landoPush(1, 1, { autoland: HEAD }, { repoUrl: `${FIREFOX_GIT}.git/` }))).toMatchObject({ kind: "pushes" });
    expect(decode({ payload: { ...landoPush(1, 1, { autoland: HEAD }).payload, type: "tag" } })).toEqual({ kind: "skipped", reason: "other_type" });
  });

  it("rejects what cannot be read, saying why", () => {
    expect(decode("{not json")).toMatchObject({ kind: "rejected", reason: "not_json" });
    expect(decode({ nopayload: 1 })).toMatchObject({ kind: "rejected", reason: "schema", detail: "no payload object" });
    expect(decode({ payload: { ...landoPush(1, 1, { autoland: "nope" }).payload } })).toMatchObject({
      kind: "rejected",
      reason: "schema",
      detail: expect.stringMatching(/^branches\.autoland: /),
    });
    expect(decode({ payload: { ...landoPush(1, 1, { autoland: HEAD }).payload, time: "yesterday" } })).toMatchObject({ kind: "rejected", reason: "schema" });
    expect(decodeLandoMessage(Buffer.alloc(300 * 1024, 32), options)).toMatchObject({ kind: "rejected", reason: "too_large" });
  });
});
