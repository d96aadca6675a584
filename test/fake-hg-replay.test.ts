// Every request recorded from the real hg.mozilla.org software (Mercurial 6.3.2 with
// version-control-tools' pushlog and hgmo, ../shared/real-data/served/hgweb-vct), sent to a fake
// holding the same repositories: the status, content type and body must be the recorded ones.
// Masked, as README.md there lists them volatile: the port, the date and etag headers (not compared),
// and the index's `lastchange` (each repository's changelog mtime when the recording ran, which no
// recorded answer but that one shows).
import { afterEach, describe, expect, it } from "vitest";
import { startFakeHg, type FakeHg } from "./support/fake-hg.ts";
import { loadServedHg, readRecorded, recordedContact, recordedFiles, type Recorded } from "./support/served-hg.ts";

const FILES = recordedFiles();

describe.runIf(FILES.length > 0)("the fake hg.mozilla.org answers every recorded request as the real server did", () => {
  let fake: FakeHg | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  for (const file of FILES) {
    it(file, async () => {
      const recorded = readRecorded(file);
      // The server's clock when it answered: its own `date` header (a UNIX `startdate` is read as now,
      // `1 hour ago` from it, `2026-…T…` as 20:26 that day).
      const now = Date.parse(recorded.headers.date as string) / 1000;
      fake = await startFakeHg({ now: () => now, contact: recordedContact() });
      loadServedHg(fake, file);
      const res = await fetch(`${fake.url}${recorded.request.replace(/^GET /, "")}`);
      const body = await res.text();
      expect({ status: res.status, contentType: res.headers.get("content-type") ?? undefined }).toEqual({
        status: recorded.status,
        contentType: recorded.headers["content-type"],
      });
      if (recorded.headers["content-disposition"]) expect(res.headers.get("content-disposition")).toBe(recorded.headers["content-disposition"]);
      expect(comparable(body, res.headers.get("content-type"))).toEqual(comparable(recorded.bodyHtml ?? recorded.body ?? "", recorded.headers["content-type"]));
    });
  }
});

/** JSON parsed (the index's mtimes masked), an HTML page's `<title>`, any other text as it is. */
function comparable(body: string | NonNullable<Recorded["bodyHtml"]>, contentType: string | null | undefined): unknown {
  if (typeof body === "object") return { title: body.title };
  if (contentType === "application/json") {
    const json = JSON.parse(body) as { entries?: Array<{ lastchange?: unknown }> };
    for (const entry of json.entries ?? []) entry.lastchange = "<changelog mtime>";
    return json;
  }
  if (contentType?.startsWith("text/html")) return { title: /<title>([^<]*)<\/title>/.exec(body)?.[1] };
  return body;
}
