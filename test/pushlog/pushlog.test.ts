// wellFormedPushes, json-pushes version=2 read without zod: every value it accepts, the schema accepts
// and reads the same; what it leaves, the schema decides. Over the recorded answers and edge cases.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { expect, it } from "vitest";
import { pushesV2, wellFormedPushes } from "../../src/pushlog/pushlog.ts";

const REAL_DATA = new URL("../../../shared/real-data/", import.meta.url);
const recorded: Array<[string, unknown]> = existsSync(REAL_DATA)
  ? readdirSync(REAL_DATA)
      .filter((f) => f.startsWith("json-pushes-"))
      .map((f): [string, unknown] => [f, JSON.parse(readFileSync(new URL(f, REAL_DATA), "utf8"))])
  : [];

const NODE = "96ee1d7354c4ad7372047672c36a1f561e3a6a4c";
const push = { user: "user@example.com", date: 1714564800, changesets: [NODE] };
const answer = (pushes: Record<string, unknown>, lastpushid: unknown = 4) => ({ lastpushid, pushes });

const cases: Array<[string, unknown]> = [
  ["a push", answer({ 1: push })],
  ["no pushes", answer({})],
  ["git_changesets", answer({ 1: { ...push, git_changesets: ["0123456789abcdef0123456789abcdef01234567"] } })],
  ["git_changesets null entries", answer({ 1: { ...push, git_changesets: [null] } })],
  ["git_changesets null", answer({ 1: { ...push, git_changesets: null } })],
  ["obsoletechangesets and other keys", answer({ 1: { ...push, obsoletechangesets: [NODE], extra: 1 } })],
  ["an upper-case node", answer({ 1: { ...push, changesets: [NODE.toUpperCase()] } })],
  ["a full=1 changeset object", answer({ 1: { ...push, changesets: [{ node: NODE }] } })],
  ["a key that is not a number", answer({ tip: push })],
  ["date a string", answer({ 1: { ...push, date: "1714564800" } })],
  ["user missing", answer({ 1: { date: 1, changesets: [] } })],
  ["lastpushid negative", answer({}, -1)],
  ["lastpushid 1.5", answer({}, 1.5)],
  ["lastpushid missing", { pushes: {} }],
  ["pushes a list", answer([] as unknown as Record<string, unknown>)],
  ["null", null],
  ...recorded,
];

it.each(cases)("%s", (_name, json) => {
  const fast = wellFormedPushes(json);
  if (fast !== undefined) expect(pushesV2.safeParse(json)).toEqual({ success: true, data: fast });
});

it("reads the recorded version=2 answers without full=1 itself", () => {
  const plain = recorded.filter(([name]) => name.startsWith("json-pushes-v2-") && !name.includes("full"));
  expect(plain.length).toBe(recorded.length === 0 ? 0 : 2);
  for (const [, json] of plain) expect(wellFormedPushes(json)).toBeDefined();
  expect(wellFormedPushes(answer({ 1: push }))).toEqual(answer({ 1: push }));
});
