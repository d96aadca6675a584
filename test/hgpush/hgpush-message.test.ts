import { existsSync, readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES, changegroup, decodeHgpushMessage, repositoryPath, wellFormedChangegroup } from "../../src/hgpush/hgpush-message.ts";
import { badMessages } from "../support/bad-messages.ts";
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

describe("wellFormedChangegroup (the decoder's reading without zod)", () => {
  // Every value it accepts, the changegroup schema accepts and reads the same; what it leaves, the
  // schema decides. Over the recorded messages, the bad-message fixtures and edge cases of each field.
  const REAL_DATA = new URL("../../../shared/real-data/", import.meta.url);
  const recorded = existsSync(REAL_DATA)
    ? readdirSync(REAL_DATA)
        .filter((f) => f.startsWith("pulse-hgpush-"))
        .map((f) => JSON.parse(readFileSync(new URL(f, REAL_DATA), "utf8")) as unknown)
    : [];
  // A recorded body, or a recorded payload (treeherder's fixture keeps the payload alone).
  const dataOf = (message: unknown): unknown => {
    const payload = (message as { payload?: { type?: unknown; data?: unknown } } | null)?.payload ?? message;
    return payload !== null && typeof payload === "object" && "type" in payload ? (payload as { data?: unknown }).data : payload;
  };
  const good = changegroupV2(HG, "integration/autoland", [{ pushId: 5, time: 1_700_000_000 }]).payload.data;
  const entry = good.pushlog_pushes[0] as Record<string, unknown>;
  const edited = (patch: Record<string, unknown>) => ({ ...good, ...patch });
  const withEntry = (patch: Record<string, unknown>) => edited({ pushlog_pushes: [{ ...entry, ...patch }] });
  const cases: Array<[string, unknown]> = [
    ["the fixture", good],
    ["without source", { repo_url: good.repo_url, heads: good.heads, pushlog_pushes: good.pushlog_pushes }],
    ["source null", edited({ source: null })],
    ["an extra key", edited({ extra: 1 })],
    ["no pushes", edited({ pushlog_pushes: [] })],
    ["an upper-case head", edited({ heads: [good.heads[0]?.toUpperCase()] })],
    ["a short head", edited({ heads: ["abc"] })],
    ["a head that is a number", edited({ heads: [1] })],
    ["repo_url a number", edited({ repo_url: 1 })],
    ["repo_url of 2,001 characters", edited({ repo_url: "x".repeat(2001) })],
    ["pushid 0", withEntry({ pushid: 0 })],
    ["pushid 1.5", withEntry({ pushid: 1.5 })],
    ["pushid a string", withEntry({ pushid: "5" })],
    ["pushid beyond the safe integers", withEntry({ pushid: 2 ** 53 })],
    ["time of 11 digits", withEntry({ time: 17_000_000_000 })],
    ["time 1e11", withEntry({ time: 1e11 })],
    ["time negative", withEntry({ time: -1 })],
    ["time 1.5", withEntry({ time: 1.5 })],
    ["user of 1,001 characters", withEntry({ user: "u".repeat(1001) })],
    ["user missing", withEntry({ user: undefined })],
    ["an entry that is a list", edited({ pushlog_pushes: [[]] })],
    ["heads missing", edited({ heads: undefined })],
    ["null", null],
    ["a list", [good]],
    ...badMessages(HG, "integration/autoland").map((m): [string, unknown] => {
      try {
        return [`bad message: ${m.name}`, dataOf(JSON.parse(m.body.toString("utf8")))];
      } catch {
        return [`bad message: ${m.name}`, undefined];
      }
    }),
    ...recorded.map((m, i): [string, unknown] => [`recorded message ${i}`, dataOf(m)]),
  ];

  it.each(cases)("%s", (_name, data) => {
    const fast = wellFormedChangegroup(data);
    const schema = changegroup.safeParse(data);
    if (fast !== undefined) expect(schema).toEqual({ success: true, data: fast });
  });

  it("reads the fixture and the recorded messages itself (the schema is only the fallback)", () => {
    expect(wellFormedChangegroup(good)).toBeDefined();
    const changegroups = recorded.map(dataOf).filter((d) => typeof d === "object" && d !== null && "pushlog_pushes" in d);
    expect(changegroups.length).toBe(recorded.length === 0 ? 0 : 6);
    for (const data of changegroups) expect(wellFormedChangegroup(data)).toBeDefined();
  });
});
