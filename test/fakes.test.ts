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

  it.runIf(existsSync(CORPUS))(
    "answers diffusion.repository.search with the fields of Mozilla's fork: Phorge's recorded row without its Phorge-only fields",
    async () => {
      // mozilla-conduit/phabricator @69242983 PhabricatorRepository::getFieldValuesForConduit has no
      // isHosted, encoding, staging or browseUri; defaultBranch and description came upstream in 2019
      // (phacility/phabricator 5b36f0c9), after the 2018 Mozilla recording, whose fields are all still there.
      const phorge = (recorded("served/phorge/repository-search-callsign.json") as { response: { body: { result: { data: Array<{ fields: object }> } } } })
        .response.body.result.data[0];
      const mozilla2018 = (
        recorded("conduit-diffusion.repository.search-mozilla-central-nss.code-review.json") as { result: { data: Array<{ fields: object }> } }
      ).result.data[0];
      const fake = rows(await conduit("diffusion.repository.search", { constraints: { callsigns: ["MOZILLACENTRAL"] } }))[0] as { fields: object };
      const phorgeOnly = ["isHosted", "encoding", "staging", "browseUri"];
      expect(Object.keys(fake.fields).sort()).toEqual(
        Object.keys(phorge?.fields ?? {})
          .filter((k) => !phorgeOnly.includes(k))
          .sort(),
      );
      expect(Object.keys(fake.fields)).toEqual(expect.arrayContaining(Object.keys(mozilla2018?.fields ?? {})));
    },
  );

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

  it("answers a discovered commit with an unimported row and its monogram page, a pulled one with no row and 'Commit Still Parsing'", async () => {
    phab.addRepository("DISC");
    const [discovered, pulled] = commitsOf("disc", 1, 2) as [string, string];
    phab.discover("DISC", [discovered]);
    phab.pull("DISC", [pulled]);
    const found = rows(
      await conduit("diffusion.commit.search", { constraints: { repositories: [phab.repositoryPHID("DISC")], identifiers: [discovered, pulled] } }),
    );
    expect(found).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          identifier: discovered,
          isImported: false,
          message: "",
          author: { name: null, email: null, raw: null, epoch: null, identityPHID: null, userPHID: null },
        }),
      }),
    ]);
    // DiffusionCommitController: the row's page, titled with its monogram, says "Still Importing...".
    const title = async (path: string) => /<title>([^<]*)</.exec(await (await fetch(`${phab.url}${path}`)).text())?.[1];
    expect(await title(`/rDISC${discovered}`)).toBe(`rDISC${discovered.slice(0, 12)}`);
    expect(await title(`/rDISC${pulled}`)).toBe("Commit Still Parsing");
    phab.mirror("DISC", [discovered]);
    const imported = rows(await conduit("diffusion.commit.search", { constraints: { identifiers: [discovered] } })) as Array<{
      fields: { isImported: boolean };
    }>;
    expect(imported.map((r) => r.fields.isImported)).toEqual([true]);
  });

  it("refuses a token of the wrong format with Phorge's text, which repeats the token (PhabricatorConduitAPIController::authenticateUser)", async () => {
    const token = "xyz-abcdefghijklmnopqrstuvwxyz01";
    const body = new URLSearchParams({ params: JSON.stringify({ constraints: {}, __conduit__: { token } }), output: "json" });
    const res = await fetch(`${phab.url}/api/diffusion.commit.search`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(await res.json()).toEqual({
      result: null,
      error_code: "ERR-INVALID-AUTH",
      error_info: `API token "${token}" has the wrong format. API tokens should be 32 characters long and begin with one of these prefixes: api, cli, clr.`,
    });
  });

  it("serves pages to the session cookie, and the login form without it, on an instance anonymous users cannot see", async () => {
    phab.anonymous = "private";
    try {
      const [node] = commitsOf("m", 1);
      const page = async (cookie?: string) => {
        const res = await fetch(`${phab.url}/rMOZILLACENTRAL${node as string}`, { headers: cookie ? { cookie } : {} });
        return [res.status, /<title>([^<]*)</.exec(await res.text())?.[1]];
      };
      expect(await page()).toEqual([200, "Login"]);
      expect(await page("phsid=someone-else")).toEqual([200, "Login"]);
      expect(await page(`phsid=${phab.session}`)).toEqual([200, `rMOZILLACENTRAL${(node as string).slice(0, 12)}`]);
      // Phabricator404Controller needs no login.
      expect((await fetch(`${phab.url}/nowhere`)).status).toBe(404);
    } finally {
      phab.anonymous = "public";
    }
  });

  it("moves the buildable with its builds and promotes the draft revision when they pass, or demotes it when one fails", async () => {
    const state = async (diff: string, revision: number) => {
      const [buildable] = rows(await conduit("harbormaster.buildable.search", { constraints: { objectPHIDs: [diff] } })) as Array<{
        fields: { buildableStatus: { value: string } };
      }>;
      const [drev] = rows(await conduit("differential.revision.search", { constraints: { ids: [revision] } })) as Array<{
        fields: { status: { value: string }; isDraft: boolean };
      }>;
      return [buildable?.fields.buildableStatus.value, drev?.fields.status.value, drev?.fields.isDraft];
    };
    phab.addDiff({ phid: "PHID-DIFF-pass", id: 90, dateCreated: 1714564800, revisionId: 900 });
    const passing = phab.addBuild("PHID-DIFF-pass");
    expect(await state("PHID-DIFF-pass", 900)).toEqual(["building", "draft", true]);
    phab.finishTarget(passing.targetPHIDs[0] as string, "passed", 1714564900);
    expect(await state("PHID-DIFF-pass", 900)).toEqual(["passed", "needs-review", false]);
    phab.restartBuild(passing.buildPHID, 1714565000);
    expect(await state("PHID-DIFF-pass", 900)).toEqual(["building", "needs-review", false]);

    phab.addDiff({ phid: "PHID-DIFF-fail", id: 91, dateCreated: 1714564800, revisionId: 901 });
    const failing = phab.addBuild("PHID-DIFF-fail");
    phab.finishTarget(failing.targetPHIDs[0] as string, "failed", 1714564900);
    expect(await state("PHID-DIFF-fail", 901)).toEqual(["failed", "changes-planned", true]);
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
