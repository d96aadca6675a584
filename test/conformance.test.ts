// `npm run conformance` itself: the whole recorded corpus reads as expected, and a sample the code
// cannot read, or one with no expectation, is a failure rather than a skip.
import { mkdtempSync, readdirSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LEFT_OUT, runConformance } from "../conformance/run.ts";

const CORPUS = new URL("../../shared/real-data/", import.meta.url).pathname;

describe("conformance on recorded data", () => {
  it.runIf(existsSync(CORPUS))("reads every sample of the corpus as expected, leaving out only the trimmed mocks by name", async () => {
    const outcomes = await runConformance(CORPUS);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(outcomes).toHaveLength(readdirSync(CORPUS).filter((f) => f.endsWith(".json")).length);
    expect(
      outcomes
        .filter((o) => o.detail.startsWith("left out"))
        .map((o) => o.file)
        .sort(),
    ).toEqual([...LEFT_OUT].sort());
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
    const outcomes = await runConformance(dir);
    const failed = outcomes
      .filter((o) => !o.ok)
      .map((o) => o.file)
      .sort();
    expect(failed).toEqual(["json-pushes-v2-page1-no-bounds.vct-test.json", "pulse-hgpush-v2-changegroup-mozilla-central.vct-test.json", "something-new.json"]);
  });
});
