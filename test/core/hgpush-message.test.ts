import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES, decodeHgpushMessage, repositoryPath } from "../../src/core/hgpush-message.ts";
import { changegroupV1, changegroupV2, otherTypeV2 } from "../support/hgpush.ts";

const HG = "https://hg.mozilla.org";
const raw = (body: unknown, routingKey = "integration/autoland", contentType: string | undefined = "application/json") => ({
  body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  routingKey,
  contentType,
});

describe("decodeHgpushMessage", () => {
  it("reads the pushes of a v2 changegroup.1 message, as published by hg.mozilla.org", () => {
    const decoded = decodeHgpushMessage(raw(changegroupV2(HG, "integration/autoland", [{ pushId: 120040, time: 1460975081 }])), HG);
    expect(decoded).toEqual({
      kind: "pushes",
      repository: "integration/autoland",
      pushes: [{ repository: "integration/autoland", pushId: 120040, pushTime: 1460975081, user: "tester@mozilla.com" }],
    });
  });

  it("reads the v1 shape too, and orders and deduplicates the pushes of one message", () => {
    const decoded = decodeHgpushMessage(
      raw(
        changegroupV1(HG, "mozilla-central", [
          { pushId: 8, time: 2 },
          { pushId: 7, time: 1 },
          { pushId: 8, time: 2 },
        ]),
        "mozilla-central",
      ),
      HG,
    );
    expect(decoded.kind === "pushes" && decoded.pushes.map((p) => p.pushId)).toEqual([7, 8]);
  });

  it("skips other types and empty pushes", () => {
    expect(decodeHgpushMessage(raw(otherTypeV2(HG, "integration/autoland", "obsolete.1")), HG)).toEqual({ kind: "skipped", reason: "other_type" });
    expect(decodeHgpushMessage(raw(otherTypeV2(HG, "integration/autoland", "something.new")), HG)).toMatchObject({ kind: "skipped" });
    expect(decodeHgpushMessage(raw(changegroupV2(HG, "integration/autoland", [])), HG)).toEqual({
      kind: "skipped",
      reason: "empty_push",
      repository: "integration/autoland",
    });
  });

  const good = () => changegroupV2(HG, "integration/autoland", [{ pushId: 1, time: 1700000000 }]);
  it.each([
    ["not JSON", raw("{nope"), "not_json"],
    ["not UTF-8", { ...raw(""), body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, "not_json"],
    ["a JSON string", raw(JSON.stringify("hello")), "schema"],
    ["no payload", raw({ _meta: {} }), "schema"],
    ["a payload that is a list", raw({ payload: [1, 2] }), "schema"],
    ["a type that is not a string", raw({ payload: { type: 5, data: {} } }), "schema"],
    [
      "pushid as a string",
      raw({ payload: { type: "changegroup.1", data: { ...good().payload.data, pushlog_pushes: [{ pushid: "1", user: "u", time: 1 }] } } }),
      "schema",
    ],
    [
      "a negative push id",
      raw({ payload: { type: "changegroup.1", data: { ...good().payload.data, pushlog_pushes: [{ pushid: -1, user: "u", time: 1 }] } } }),
      "schema",
    ],
    [
      "a 12-digit push time",
      raw({ payload: { type: "changegroup.1", data: { ...good().payload.data, pushlog_pushes: [{ pushid: 1, user: "u", time: 146097508100 }] } } }),
      "schema",
    ],
    ["a non-hex head", raw({ payload: { type: "changegroup.1", data: { ...good().payload.data, heads: ["zz".repeat(20)] } } }), "schema"],
    ["a repo_url on another host", raw(changegroupV2("https://hg.example.com", "integration/autoland", [{ pushId: 1, time: 1 }])), "foreign_host"],
    ["a routing key that names another repository", raw(good(), "mozilla-central"), "routing_mismatch"],
    ["a wrong content type", raw(good(), "integration/autoland", "text/plain"), "content_type"],
    ["a huge body", raw(`"${"x".repeat(MAX_MESSAGE_BYTES)}"`), "too_large"],
    ["deep nesting", raw(`${"[".repeat(100_000)}${"]".repeat(100_000)}`), "schema"],
  ])("rejects %s", (_what, message, reason) => {
    expect(decodeHgpushMessage(message, HG)).toMatchObject({ kind: "rejected", reason });
  });
});

describe("repositoryPath", () => {
  it("is the path below HG_URL, and nothing for other hosts or schemes", () => {
    expect(repositoryPath("https://hg.mozilla.org/integration/autoland/", HG)).toBe("integration/autoland");
    expect(repositoryPath("http://hg.mozilla.org/integration/autoland", HG)).toBeUndefined();
    expect(repositoryPath("https://hg.mozilla.org.evil.com/x", HG)).toBeUndefined();
    expect(repositoryPath("https://user@hg.mozilla.org/x", HG)).toBeUndefined();
    expect(repositoryPath("not a url", HG)).toBeUndefined();
    // Dot segments are resolved before the prefix is compared, so they cannot climb out of HG_URL.
    expect(repositoryPath("https://example.org/hg/../secret/repo", "https://example.org/hg")).toBeUndefined();
    expect(repositoryPath("https://example.org/hg/a/../b", "https://example.org/hg")).toBe("b");
  });
});
