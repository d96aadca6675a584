// `npm run conformance` itself: the whole recorded corpus reads as expected, the answers recorded from
// the real server software (served/) included, and a sample the code cannot read, or one with no
// expectation, is a failure rather than a skip.
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LEFT_OUT, runConformance } from "../conformance/run.ts";
import { NOT_ASKED } from "../conformance/served.ts";

const CORPUS = new URL("../../shared/real-data/", import.meta.url).pathname;

describe("conformance on recorded data", () => {
  it.runIf(existsSync(CORPUS))("reads every sample of the corpus as expected, leaving out only the trimmed mocks by name", async () => {
    const outcomes = await runConformance(CORPUS);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const served = ["hgweb-vct", "phorge"].flatMap((kind) =>
      readdirSync(join(CORPUS, "served", kind))
        .filter((f) => f.endsWith(".json"))
        .map((f) => ({ name: f, file: `served/${kind}/${f}` })),
    );
    expect(outcomes).toHaveLength(readdirSync(CORPUS).filter((f) => f.endsWith(".json")).length + served.length);
    const notAsked = served.filter(({ name }) => NOT_ASKED.some(([pattern]) => pattern.test(name))).map(({ file }) => file);
    expect(
      outcomes
        .filter((o) => o.detail.startsWith("left out"))
        .map((o) => o.file)
        .sort(),
    ).toEqual([...LEFT_OUT, ...notAsked].sort());
  });

  it("fails a sample it cannot read, and one it has no expectation for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phabmon-corpus-"));
    writeFileSync(join(dir, "pulse-hgpush-v2-changegroup-mozilla-central.vct-test.json"), JSON.stringify({ payload: { type: "changegroup.1", data: {} } }));
    writeFileSync(
      join(dir, "json-pushes-v2-page1-no-bounds.vct-test.json"),
      JSON.stringify({ lastpushid: 32, pushes: { "23": { user: "u", date: 1, changesets: ["short"] } } }),
    );
    writeFileSync(join(dir, "something-new.json"), "{}");
    if (existsSync(CORPUS)) copyFileSync(join(CORPUS, "json-rev-tip.vct-test.json"), join(dir, "json-rev-tip.vct-test.json"));
    // A recorded 200 whose body the reader cannot read is a failure, not "read as an error".
    mkdirSync(join(dir, "served", "hgweb-vct"), { recursive: true });
    mkdirSync(join(dir, "served", "phorge"));
    const notJson = { request: "GET /try/json-pushes?version=2&startID=0&endID=1", status: 200, headers: { "content-type": "text/html" }, body: "<html>" };
    writeFileSync(join(dir, "served", "hgweb-vct", "try-not-json.json"), JSON.stringify(notJson));
    const outcomes = await runConformance(dir);
    const failed = outcomes
      .filter((o) => !o.ok)
      .map((o) => o.file)
      .sort();
    expect(failed).toEqual([
      "json-pushes-v2-page1-no-bounds.vct-test.json",
      "pulse-hgpush-v2-changegroup-mozilla-central.vct-test.json",
      "served/hgweb-vct/try-not-json.json",
      "something-new.json",
    ]);
  });
});
