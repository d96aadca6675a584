// The fakes answer as the real services do: each assertion is a behaviour of upstream Phabricator or
// version-control-tools (named in the fakes' headers), compared with a recorded answer where the corpus
// has one. A test that passes against a fake the real server would answer differently is a defect.
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeHg, type FakeHg } from "./support/fake-hg.ts";
import { startFakePhabricator, type FakePhabricator } from "./support/fake-phabricator.ts";
import { commitsOf } from "./support/hgpush.ts";

const CORPUS = new URL("../../shared/real-data/", import.meta.url);
const recorded = (file: string): unknown => JSON.parse(readFileSync(new URL(file, CORPUS), "utf8"));

describe("fake Phabricator", () => {
  let phab: FakePhabricator;
  beforeAll(async () => {
    phab = await startFakePhabricator();
    phab.addRepository("MOZILLACENTRAL");
    phab.mirror("MOZILLACENTRAL", commitsOf("m", 1));
  });
  afterAll(() => phab.close());

  async function conduit(method: string, params: Record<string, unknown>): Promise<{ result: unknown; error_code: string | null; error_info: string | null }> {
    const body = new URLSearchParams({ params: JSON.stringify({ ...params, __conduit__: { token: phab.token } }), output: "json" });
    const res = await fetch(`${phab.url}/api/${method}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(res.status).toBe(200); // even on error (PhabricatorConduitAPIController)
    return (await res.json()) as { result: unknown; error_code: string | null; error_info: string | null };
  }
  const rows = (answer: { result: unknown }) => (answer.result as { data: unknown[] }).data;

  it("answers a callsign in `repositories` with an empty list and no error; the PHID finds the commits", async () => {
    const identifiers = commitsOf("m", 1);
    const byCallsign = await conduit("diffusion.commit.search", { constraints: { repositories: ["rMOZILLACENTRAL"], identifiers } });
    expect(byCallsign.error_code).toBeNull();
    expect(rows(byCallsign)).toEqual([]);
    const byPHID = await conduit("diffusion.commit.search", { constraints: { repositories: [phab.repositoryPHID("MOZILLACENTRAL")], identifiers } });
    expect(rows(byPHID)).toHaveLength(4);
  });

  it("rejects an unknown constraint and a limit over 100 with ERR-CONDUIT-CORE", async () => {
    expect(await conduit("diffusion.commit.search", { constraints: { callsign: "X" } })).toEqual({
      result: null,
      error_code: "ERR-CONDUIT-CORE",
      error_info: 'Constraint "callsign" is not a valid constraint for this query.',
    });
    expect((await conduit("harbormaster.target.search", { constraints: {}, limit: 500 })).error_code).toBe("ERR-CONDUIT-CORE");
  });

  it.runIf(existsSync(CORPUS))("answers diffusion.repository.search with the recorded row's field set", async () => {
    const real = (recorded("conduit-diffusion.repository.search-mozilla-central-nss.code-review.json") as { result: { data: Array<{ fields: object }> } })
      .result.data[0];
    const fake = rows(await conduit("diffusion.repository.search", { constraints: { callsigns: ["MOZILLACENTRAL"] } }))[0] as { fields: object };
    expect(Object.keys(fake.fields).sort()).toEqual(Object.keys(real?.fields ?? {}).sort());
  });

  it("holds several builds per buildable, and an aborted build keeps its target waiting", async () => {
    phab.addDiff({ phid: "PHID-DIFF-fake", id: 1, dateCreated: 1714564800 });
    const first = phab.addBuild("PHID-DIFF-fake");
    const second = phab.addBuild("PHID-DIFF-fake", { plan: "PHID-HMCP-other" });
    const builds = rows(await conduit("harbormaster.build.search", { constraints: { phids: [first.buildPHID, second.buildPHID] } })) as Array<{
      fields: { buildablePHID: string };
    }>;
    expect(new Set(builds.map((b) => b.fields.buildablePHID)).size).toBe(1);
    phab.setBuildStatus(first.buildPHID, "aborted");
    const [build] = rows(await conduit("harbormaster.build.search", { constraints: { phids: [first.buildPHID] } })) as Array<{
      fields: { buildStatus: { value: string } };
    }>;
    const [target] = rows(await conduit("harbormaster.target.search", { constraints: { phids: first.targetPHIDs } })) as Array<{
      fields: { status: { value: string } };
    }>;
    expect([build?.fields.buildStatus.value, target?.fields.status.value]).toEqual(["aborted", "target/waiting"]);
  });
});

describe("fake hg.mozilla.org", () => {
  let hg: FakeHg;
  beforeAll(async () => {
    hg = await startFakeHg();
    for (let id = 1; id <= 12; id++) hg.addPush("r", { pushId: id, date: Date.UTC(2024, 4, 1, id) / 1000, user: "u", changesets: commitsOf("r", id, 1) });
    hg.strip("r", 2);
    hg.addPush("r", { pushId: 13, date: Date.UTC(2024, 4, 1, 13) / 1000, user: "u", changesets: commitsOf("r", 13, 1) }, { replicated: false });
  });
  afterAll(() => hg.close());
  const get = async (query: string) => {
    const res = await fetch(`${hg.url}/r/json-pushes${query}`);
    return {
      status: res.status,
      body: (await res.json()) as { lastpushid?: number; pushes?: Record<string, unknown>; error?: string } & Record<string, unknown>,
    };
  };
  const ids = (body: { pushes?: Record<string, unknown> }) => Object.keys(body.pushes ?? {}).map(Number);

  it("leaves out a stripped push below lastpushid, and an unreplicated one above it", async () => {
    const { body } = await get("?version=2&startID=0&endID=20");
    expect(body.lastpushid).toBe(12);
    expect(ids(body)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("reads a UNIX-seconds startdate as now, and the YYYY-MM-DD HH:MM:SS form as a date", async () => {
    const unix = await get(`?version=2&startdate=${Date.UTC(2024, 4, 1, 5) / 1000}%200&enddate=${Date.UTC(2024, 4, 1, 9) / 1000}%200`);
    expect(ids(unix.body)).toEqual([]);
    const dated = await get("?version=2&startdate=2024-05-01%2005:00:00&enddate=2024-05-01%2009:00:00");
    expect(ids(dated.body)).toEqual([6, 7, 8]);
  });

  it("prefers a date bound to an id bound, ignores an upper bound without a lower one, and serves version 1 bare", async () => {
    expect(ids((await get("?version=2&startdate=2024-05-01%2010:00:00&startID=0")).body)).toEqual([11, 12]);
    expect(ids((await get("?version=2&endID=3")).body)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const v1 = await get("?startID=10&endID=11");
    expect(Object.keys(v1.body)).toEqual(["11"]);
  });

  it.runIf(existsSync(CORPUS))("answers a bad version and an unknown revision with the recorded errors", async () => {
    const badVersion = recorded("json-pushes-error-500-bad-version.vct-test.json") as { http_status: number; body: unknown };
    expect(await get("?version=3")).toEqual({ status: badVersion.http_status, body: badVersion.body });
    const unknown = recorded("json-pushes-error-404-unknown-revision.vct-test.json") as { http_status: number; body: unknown };
    expect(await get("?version=2&fromchange=foobar")).toEqual({ status: unknown.http_status, body: unknown.body });
  });
});
