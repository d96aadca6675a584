// Every request recorded from real Phorge (../shared/real-data/served/phorge/), asked again of the fake
// Phabricator loaded with the same repository, commits and review: the fake must answer as Phorge did,
// except where Mozilla's fork answers differently (MOZILLA below), where it must answer as Mozilla's
// source does. Compared: status, content type, `location` (host masked), a page's <title>, and a
// Conduit answer's whole JSON body with only the recording's volatile fields masked (PHIDs, which are
// numbered by first appearance so that which row names which still counts; epochs; the host).
import { afterEach, describe, expect, it } from "vitest";
import { startFakePhabricator, type FakePhabricator } from "./support/fake-phabricator.ts";
import { loadServed, servedCases, servedPresent, type ServedCase } from "./support/served-phorge.ts";

/** The origin Phorge was served from when it was recorded (the README's "host in `location`"). */
const RECORDED_ORIGIN = "http://127.0.0.1:19080";
const MOZILLA_SOURCE = "mozilla-conduit/phabricator @69242983";

type Body = { result: { data: Array<{ phid: string; fields: Record<string, unknown> }> } | null; error_code: string | null; error_info: string | null };

const coreError = (info: string) => (): Body => ({ result: null, error_code: "ERR-CONDUIT-CORE", error_info: info });

/**
 * Where Mozilla's fork answers differently from Phorge (served/README.md), the answer Mozilla's source
 * gives instead of the recorded one, and the line that gives it.
 */
const MOZILLA: Array<{ files: RegExp; source: string; expected: (recorded: Body) => Body }> = [
  {
    // Phorge: ERR-INVALID-CONSTRAINT, "Parameter "constraints" includes an invalid key."
    files: /^commit-search-unknown-constraint\.json$/,
    source: `${MOZILLA_SOURCE} src/applications/search/engine/PhabricatorApplicationSearchEngine.php:1180-1186`,
    expected: coreError('Constraint "nosuch" is not a valid constraint for this query.'),
  },
  {
    // Phorge: ERR-INVALID-PAGE-SIZE, "Minimum page size for Conduit API method calls is 1, …"
    files: /^commit-search-limit-0\.json$/,
    source: `${MOZILLA_SOURCE} src/applications/search/engine/PhabricatorApplicationSearchEngine.php:1388-1394`,
    expected: coreError("Minimum page size for API searches is 1, but this call specified 0."),
  },
  {
    // Phorge: ERR-INVALID-PAGE-SIZE with the same text.
    files: /^commit-search-limit-101\.json$/,
    source: `${MOZILLA_SOURCE} src/applications/search/engine/PhabricatorApplicationSearchEngine.php:1380-1386`,
    expected: coreError("Maximum page size for Conduit API method calls is 100, but this call specified 101."),
  },
  {
    // Phorge's repository row adds isHosted, encoding, staging and browseUri.
    files: /^repository-search-(callsign|lowercase-callsign)\.json$/,
    source: `${MOZILLA_SOURCE} src/applications/repository/storage/PhabricatorRepository.php:2825-2842 (getFieldValuesForConduit)`,
    expected: (recorded) => {
      for (const row of recorded.result?.data ?? []) for (const key of ["isHosted", "encoding", "staging", "browseUri"]) delete row.fields[key];
      return recorded;
    },
  },
  {
    // Mozilla's revision row adds its stack (a lone revision depends on nothing) and its diff's id.
    files: /^review-[a-z]+-revision-search-ids\.json$/,
    source: `${MOZILLA_SOURCE} src/applications/differential/storage/DifferentialRevision.php:1130-1136 (stackGraph), :1143 (diffID)`,
    expected: (recorded) => {
      for (const row of recorded.result?.data ?? []) Object.assign(row.fields, { stackGraph: { [row.phid]: [] }, diffID: "1" });
      return recorded;
    },
  },
];

const EPOCH_KEYS = new Set(["dateCreated", "dateModified", "epoch", "epochStarted", "epochCompleted"]);

/** The body with its volatile fields masked: the origin, epochs, and PHIDs numbered by first appearance. */
function masked(body: unknown, origin: string): unknown {
  const numbers = new Map<string, string>();
  const phid = (text: string) => {
    const match = /^PHID-([A-Z]{4})-[a-z0-9]{20}$/.exec(text);
    if (!match) return text.replaceAll(origin, "<origin>");
    if (!numbers.has(text)) numbers.set(text, `PHID-${match[1] as string}-#${numbers.size + 1}`);
    return numbers.get(text) as string;
  };
  const walk = (value: unknown, key?: string): unknown => {
    if (typeof value === "string") return phid(value);
    if (typeof value === "number" && key !== undefined && EPOCH_KEYS.has(key)) return "<epoch>";
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([k, v]) => [phid(k), walk(v, k)]));
  };
  return walk(body);
}

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? null;

async function ask(fake: FakePhabricator, recorded: ServedCase): Promise<Response> {
  const [method, path] = recorded.request.http.split(" ") as [string, string];
  if (recorded.request.params === undefined) {
    const cookie = recorded.request.cookie?.replace("<session>", fake.session);
    return fetch(`${fake.url}${path}`, { method, headers: cookie ? { cookie } : {}, redirect: "manual" });
  }
  // The recording shows the working token as "<the token>"; refused tokens are shown as they were sent.
  const params = JSON.parse(JSON.stringify(recorded.request.params).replaceAll('"<the token>"', JSON.stringify(fake.token))) as Record<string, unknown>;
  const contentType = recorded.request.contentType ?? "application/x-www-form-urlencoded";
  const body =
    contentType === "application/json"
      ? JSON.stringify(params)
      : new URLSearchParams({ params: JSON.stringify(params), output: recorded.request.output ?? "json" });
  return fetch(`${fake.url}${path}`, { method, headers: { "content-type": contentType }, body });
}

describe.runIf(servedPresent)("the fake Phabricator answers each request recorded from real Phorge as Phorge (or Mozilla's fork) did", () => {
  let fake: FakePhabricator | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  for (const recorded of servedPresent ? servedCases() : []) {
    it(recorded.file, async () => {
      fake = await startFakePhabricator();
      loadServed(fake, recorded.case);
      const answer = await ask(fake, recorded);
      const expectedLocation = recorded.response.location?.replace(RECORDED_ORIGIN, fake.url) ?? null;
      expect({ status: answer.status, contentType: answer.headers.get("content-type"), location: answer.headers.get("location") }).toEqual({
        status: recorded.response.status,
        contentType: recorded.response.contentType,
        location: expectedLocation,
      });
      const text = await answer.text();
      if (recorded.response.body === undefined) {
        expect(titleOf(text)).toBe(recorded.response.title ?? null);
        return;
      }
      const exception = MOZILLA.find((m) => m.files.test(recorded.file));
      const expected = exception ? exception.expected(structuredClone(recorded.response.body) as Body) : recorded.response.body;
      expect(masked(JSON.parse(text), fake.url)).toEqual(masked(expected, RECORDED_ORIGIN));
    });
  }
});
