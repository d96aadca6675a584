// The repositories of the recorded hg.mozilla.org (../shared/real-data/served/hgweb-vct, README.md
// there), rebuilt in a fake from what the recording shows: setup.json for autoland's pushes, each
// repository's full listing for its pushes and changesets, the json-rev and raw-file answers for
// commit dates, file texts and the changeset that came without a push.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { ChangesetDetails, FakeHg, FakePush } from "./fake-hg.ts";

export const SERVED_HG = new URL("../../../shared/real-data/served/hgweb-vct/", import.meta.url);

export interface Recorded {
  request: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body?: string;
  bodyHtml?: { title: string };
}

interface Setup {
  pushes: Array<{ pushid: number; recordedUser: string; date: number; nodes: string[] }>;
}

type Listed = string | (ChangesetFields & { node: string });
interface ChangesetFields {
  author: string;
  desc: string;
  branch: string;
  parents: string[];
  files: string[];
  git_node: string | null;
  precursors?: string[];
}
interface ListedPush {
  user: string;
  date: number;
  changesets: Listed[];
  obsoletechangesets?: Listed[];
  git_changesets?: Array<string | null>;
}

/**
 * The recorded server's repositories in its configuration's order (root-index-json.json lists them
 * so), each with the answer that lists all its pushes. `strippedAfter` is a listing recorded after
 * `hg strip`: the pushes it no longer lists were stripped. Try has no listing: its one recorded
 * answer (try-tipsonly-after-strip.json) shows a push at or below 200 whose changesets were stripped.
 */
const REPOSITORIES: Array<{ path: string; listing?: string; strippedAfter?: string }> = [
  { path: "integration/autoland", listing: "autoland-before-strip-v2-full-startID0.json", strippedAfter: "autoland-v2-full-startID0.json" },
  { path: "mozilla-central" },
  { path: "hg-test", listing: "hg-test-v1-startID0-full.json" },
  { path: "empty-pushes", listing: "empty-pushes-v2-startID0.json" },
  { path: "integration/obs", listing: "obs-v2-full.json" },
  { path: "try" },
  { path: "legacy", listing: "legacy-v2-startID0.json" },
  { path: "integration/git", listing: "git-v2-full-startID0.json" },
];

export const recordedFiles = (): string[] =>
  existsSync(SERVED_HG)
    ? readdirSync(SERVED_HG)
        .filter((f) => f.endsWith(".json") && f !== "setup.json")
        .sort()
    : [];

export const readRecorded = (file: string): Recorded => JSON.parse(readFileSync(new URL(file, SERVED_HG), "utf8")) as Recorded;

/** The contact the recorded server was configured with (`ui.username`), as its index shows it. */
export function recordedContact(): string {
  const index = JSON.parse(readRecorded("root-index-json.json").body as string) as { entries: Array<{ contact: string }> };
  return index.entries[0]?.contact ?? "";
}

/** Fills `fake` with the recorded repositories, as they were when `file` was recorded. */
export function loadServedHg(fake: FakeHg, file: string): void {
  const facts = changesetFacts();
  const setup = JSON.parse(readFileSync(new URL("setup.json", SERVED_HG), "utf8")) as Setup;
  for (const { path, listing, strippedAfter } of REPOSITORIES) {
    fake.addRepository(path);
    for (const [node, details] of facts.get(path) ?? []) if (details.pulled) fake.addPulledChangeset(path, { node, ...details.fields });
    if (path === "try") {
      fake.addPush(path, { pushId: 1, date: 0, user: "try@example.com", changesets: ["7e57" + "0".repeat(36)] });
      fake.strip(path, 1);
    }
    if (!listing) continue;
    const listed = listedPushes(listing);
    const { lastpushid } = listed;
    const pushes = path === "integration/autoland" ? fromSetup(setup, listed.pushes) : listed.pushes;
    for (const [id, push] of pushes) fake.addPush(path, toFakePush(id, push, facts.get(path)));
    // A push id at or below lastpushid that the listing leaves out was stripped before it.
    for (let id = 1; id <= lastpushid; id++) {
      if (pushes.has(id)) continue;
      fake.addPush(path, { pushId: id, date: 0, user: "stripped@example.com", changesets: [`${id.toString(16).padStart(4, "0")}${"f".repeat(36)}`] });
      fake.strip(path, id);
    }
    if (strippedAfter && !file.startsWith("autoland-before-strip-")) {
      const after = listedPushes(strippedAfter).pushes;
      for (const id of pushes.keys()) if (!after.has(id)) fake.strip(path, id);
    }
  }
}

function listedPushes(file: string): { pushes: Map<number, ListedPush>; lastpushid: number } {
  const body = JSON.parse(readRecorded(file).body as string) as { lastpushid?: number; pushes?: Record<string, ListedPush> };
  // Version 1 is the bare map of pushes, version 2 has it under `pushes`.
  const map = body.pushes ?? (body as Record<string, ListedPush>);
  const pushes = new Map(Object.entries(map).map(([id, push]) => [Number(id), push] as const));
  return { pushes: new Map([...pushes].sort(([a], [b]) => a - b)), lastpushid: body.lastpushid ?? 0 };
}

/**
 * Autoland's pushes as setup.json lists them: id, user (as the pushlog recorded it: the hgweb
 * process's for the push over HTTP), time and nodes; the listing gives their changesets' fields.
 */
function fromSetup(setup: Setup, listed: Map<number, ListedPush>): Map<number, ListedPush> {
  const fields = new Map([...listed.values()].flatMap((p) => p.changesets.map((c) => [typeof c === "string" ? c : c.node, c] as const)));
  const pushes = new Map<number, ListedPush>();
  for (const p of setup.pushes) {
    const changesets = p.nodes.map((node) => fields.get(node));
    if (changesets.some((c) => c === undefined)) throw new Error(`setup.json's push ${p.pushid} has a changeset autoland's listing lacks`);
    pushes.set(p.pushid, { user: p.recordedUser, date: p.date, changesets: changesets as Listed[] });
  }
  return pushes;
}

function toFakePush(id: number, push: ListedPush, facts: Map<string, { fields: ChangesetDetails }> | undefined): FakePush {
  const listed = [...push.changesets.map((c) => ({ c, obsolete: false })), ...(push.obsoletechangesets ?? []).map((c) => ({ c, obsolete: true }))];
  const nodes = listed.map(({ c }) => (typeof c === "string" ? c : c.node));
  const details = listed.map(({ c, obsolete }, i): ChangesetDetails => {
    const fields: ChangesetDetails = typeof c === "string" ? {} : fullFields(c);
    return { ...fields, ...facts?.get(nodes[i] as string)?.fields, ...(obsolete ? { obsolete } : {}) };
  });
  const gitChangesets = listed.map(({ c }, i) => (typeof c === "string" ? (push.git_changesets?.[i] ?? null) : c.git_node));
  return { pushId: id, date: push.date, user: push.user, changesets: nodes, gitChangesets, details };
}

function fullFields(c: ChangesetFields): ChangesetDetails {
  return { author: c.author, desc: c.desc, branch: c.branch, parents: c.parents, files: c.files, ...(c.precursors ? { precursors: c.precursors } : {}) };
}

interface JsonRev {
  node: string;
  date: [number, number];
  desc: string;
  user: string;
  branch: string;
  parents: string[];
  files: Array<{ file: string; status: string }>;
  diff: Array<{ lines: Array<{ l: string }> }>;
  pushid: number | "";
}

/**
 * What the json-rev and raw-file answers (200s) say of each changeset, by repository and node: its
 * date, author, description, parents, files, the whole text of files it adds (their hunk is all of
 * it) and of files raw-file served; `pulled` when it has no push.
 */
function changesetFacts(): Map<string, Map<string, { pulled: boolean; fields: ChangesetDetails }>> {
  const facts = new Map<string, Map<string, { pulled: boolean; fields: ChangesetDetails }>>();
  const at = (repo: string, node: string) => {
    const byNode = facts.get(repo) ?? facts.set(repo, new Map()).get(repo)!;
    return byNode.get(node) ?? byNode.set(node, { pulled: false, fields: { contents: {} } }).get(node)!;
  };
  for (const file of recordedFiles()) {
    const r = readRecorded(file);
    const rev = /^GET \/(.+)\/json-rev\/[^/]+$/.exec(r.request);
    const raw = /^GET \/(.+)\/raw-file\/([0-9a-f]{40})\/(.+)$/.exec(r.request);
    if (r.status !== 200 || (!rev && !raw)) continue;
    if (raw) Object.assign(at(raw[1] as string, raw[2] as string).fields.contents!, { [raw[3] as string]: r.body });
    if (!rev) continue;
    const j = JSON.parse(r.body as string) as JsonRev;
    if (/^0{40}$/.test(j.node)) continue;
    const fact = at(rev[1] as string, j.node);
    fact.pulled = j.pushid === "";
    const removed = j.files.filter((f) => f.status === "removed").map((f) => f.file);
    Object.assign(fact.fields, {
      date: j.date[0],
      author: j.user,
      desc: j.desc,
      branch: j.branch,
      parents: j.parents,
      files: j.files.map((f) => f.file),
      removed,
    });
    Object.assign(fact.fields.contents!, addedTexts(j.diff));
  }
  return facts;
}

/** The text of each file a diff adds (`@@ -0,0 +1,n @@`): its `+` lines, the marker taking the last newline. */
function addedTexts(diff: JsonRev["diff"]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const { lines } of diff) {
    const [minus, plus, range, ...rest] = lines.map((l) => l.l);
    const file = /^\+\+\+ b\/(.*)\t/.exec(plus ?? "")?.[1];
    if (!minus?.startsWith("--- /dev/null") || file === undefined || !range?.startsWith("@@ -0,0 ")) continue;
    let text = rest
      .filter((l) => l.startsWith("+"))
      .map((l) => l.slice(1))
      .join("");
    if (rest.at(-1)?.startsWith("\\")) text = text.slice(0, -1);
    texts[file] = text;
  }
  return texts;
}
