// `npm run conformance`: every recorded or server-test sample of a corpus folder (REAL_DATA_DIR,
// default ../shared/real-data) through the service's own readers. Messages go through the decoder
// the checks use; HTTP bodies are served, with their status, from a loopback server to the service's
// own pushlog and Conduit clients, so the request, status and parsing code is the production code.
// Each sample has an expectation below; a sample with none, or one the code cannot read as expected,
// is a failure. Only the trimmed mocks that the corpus's SOURCES.md marks "do not use as a shape" are
// left out, by name.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { decodeHgpushMessage, type DecodedMessage } from "../src/hgpush/hgpush-message.ts";
import { findReviewCommit, targetOfTryTaskConfig } from "../src/review/review-commit.ts";
import { createUpstream, type Upstream } from "../src/upstream/upstream.ts";
import { createPushlogClient, type PushlogClient } from "../src/pushlog/pushlog.ts";
import { createConduitClient, resolveRepositories, type ConduitClient } from "../src/phabricator/phabricator.ts";
import { createReviewLookup, type ReviewLookup } from "../src/phabricator/review-lookup.ts";
import { runServed, type Answer, type ServedReaders } from "./served.ts";

const HG = "https://hg.mozilla.org";

/** SOURCES.md: "trimmed mock: a hand-cut response in a client's tests; fields are missing. Do not use as a shape." */
export const LEFT_OUT = new Set([
  "conduit-harbormaster.buildable.search-TRIMMED.code-review-bot.json",
  "conduit-harbormaster.build.search-TRIMMED.code-review-bot.json",
  "conduit-harbormaster.target.search-TRIMMED.code-review-bot.json",
]);

interface Readers {
  pushlog: PushlogClient;
  conduit: ConduitClient;
  reviews: ReviewLookup;
  /** Serves `body` with `status` to the next requests. */
  serve(body: unknown, status?: number): void;
}

type Check = (sample: unknown, readers: Readers) => Promise<string> | string;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function decode(sample: unknown, routingKey = ""): DecodedMessage {
  return decodeHgpushMessage({ body: Buffer.from(JSON.stringify(sample)), contentType: "application/json", routingKey }, HG);
}

function pushesOf(sample: unknown, routingKey: string, expected: { repository: string; pushIds: number[]; pushTimes?: number[] }): string {
  const decoded = decode(sample, routingKey);
  assert(decoded.kind === "pushes", `decoded as ${decoded.kind}${decoded.kind === "rejected" ? ` (${decoded.reason}: ${decoded.detail})` : ""}, not as pushes`);
  assert(decoded.repository === expected.repository, `repository ${decoded.repository}, expected ${expected.repository}`);
  const ids = decoded.pushes.map((p) => p.pushId);
  assert(JSON.stringify(ids) === JSON.stringify(expected.pushIds), `push ids ${JSON.stringify(ids)}`);
  if (expected.pushTimes) {
    const times = decoded.pushes.map((p) => p.pushTime);
    assert(JSON.stringify(times) === JSON.stringify(expected.pushTimes), `push times ${JSON.stringify(times)}, expected ${JSON.stringify(expected.pushTimes)}`);
  }
  return `push ${ids.join(", ")} of ${decoded.repository}${expected.pushTimes ? ` at ${expected.pushTimes.join(", ")}` : ""}`;
}

function skipped(sample: unknown, routingKey: string): string {
  const decoded = decode(sample, routingKey);
  assert(decoded.kind === "skipped" && decoded.reason === "other_type", `decoded as ${decoded.kind}, not as a type to skip`);
  return "skipped: not a changegroup";
}

/** The changeset ids json-pushes lists, as the replication check reads them (version 2, ids). */
async function pushlogRange(readers: Readers, body: unknown, expected: { pushIds: number[]; lastPushId: number }): Promise<string> {
  readers.serve(body);
  const slice = await readers.pushlog.fetchRange("repo", { startId: 0, endId: 1_000_000 });
  const ids = [...slice.pushes.keys()].sort((a, b) => a - b);
  assert(JSON.stringify(ids) === JSON.stringify(expected.pushIds), `push ids ${JSON.stringify(ids)}`);
  assert(slice.lastPushId === expected.lastPushId, `lastpushid ${slice.lastPushId}`);
  const commits = [...slice.pushes.values()].reduce((n, p) => n + p.changesets.length, 0);
  // git_changesets, as a repository checked as Git reads them: one per visible changeset, when present.
  const pushes = [...slice.pushes.values()];
  for (const p of pushes)
    assert(p.gitChangesets === undefined || p.gitChangesets.length === p.changesets.length, `push ${p.pushId}: git_changesets not parallel to changesets`);
  const git = pushes.flatMap((p) => p.gitChangesets ?? []);
  const gitNote = git.length === 0 ? "no git_changesets" : `git_changesets ${git.length} (${git.filter((g) => g === null).length} null)`;
  return `${ids.length} pushes (${ids[0]}–${ids.at(-1)}), ${commits} changesets, ${gitNote}, lastpushid ${slice.lastPushId}`;
}

/** The full=1 form the code-review pipeline reads. */
async function pushlogFull(readers: Readers, body: unknown, expected: { pushIds: number[] }): Promise<string> {
  readers.serve(body);
  const slice = await readers.pushlog.fetchFullRange("try", { startId: 0, endId: 1_000_000 });
  const ids = [...slice.pushes.keys()].sort((a, b) => a - b);
  assert(JSON.stringify(ids) === JSON.stringify(expected.pushIds), `push ids ${JSON.stringify(ids)}`);
  const commits = [...slice.pushes.values()].flatMap((p) => p.changesets);
  return `${ids.length} pushes, ${commits.length} full changesets (author, desc)`;
}

/** version=1 is the bare pushes map; the service asks version=2, whose `pushes` is that same map. */
const asV2 = (v1: unknown): unknown => ({ lastpushid: Math.max(...Object.keys(v1 as object).map(Number)), pushes: v1 });

async function rejected(readers: Readers, sample: unknown, status: number): Promise<string> {
  const { body } = sample as { http_status: number; body: unknown };
  assert((sample as { http_status: number }).http_status === status, "unexpected http_status in the sample");
  readers.serve(body, status);
  try {
    await readers.pushlog.fetchRange("repo", { startId: 0, endId: 1 });
  } catch (error) {
    const message = (error as Error).message;
    assert(message.includes(`HTTP ${status}`), `error ${message}`);
    return `read as a failure: ${message}`;
  }
  throw new Error(`HTTP ${status} was read as an answer`);
}

async function revision(readers: Readers, body: unknown, expected: { pushId: number; pushTime: number }): Promise<string> {
  readers.serve(body);
  const push = (await readers.pushlog.fetchRevision("repo", "0".repeat(12)))?.push;
  assert(push?.pushId === expected.pushId && push.pushTime === expected.pushTime, `read ${JSON.stringify(push)}`);
  return `push ${push.pushId} at ${push.pushTime}`;
}

/** A bare search row, as the service reads it inside a search result. */
const inEnvelope = (row: unknown) => ({
  result: { data: [row], maps: {}, query: { queryKey: null }, cursor: { limit: 100, after: null, before: null, order: null } },
  error_code: null,
  error_info: null,
});

async function diffs(readers: Readers, body: unknown, expected: { phid: string; dateCreated: number }): Promise<string> {
  readers.serve(body);
  const found = (await readers.reviews.diffs([expected.phid])).get(expected.phid);
  assert(found?.dateCreated === expected.dateCreated, `read ${JSON.stringify(found)}`);
  return `diff ${found.id} ${found.phid} created ${found.dateCreated}`;
}

async function revisions(readers: Readers, body: unknown, expected: { id: number; diffPHID: string }): Promise<string> {
  readers.serve(body);
  const found = (await readers.reviews.revisions([expected.id])).get(expected.id);
  assert(found?.diffPHID === expected.diffPHID, `read ${JSON.stringify(found)}`);
  return `D${expected.id}: active diff ${found.diffPHID}`;
}

export const EXPECTATIONS: Record<string, Check> = {
  // hgpush messages, through the decoder of every check.
  "pulse-hgpush-v1-changegroup-try-2016.treeherder.json": (s) => pushesOf(s, "try", { repository: "try", pushIds: [136598], pushTimes: [1469830246] }),
  "pulse-hgpush-v2-changegroup-autoland-2018.commit-telemetry.json": (s) =>
    pushesOf(s, "integration/autoland", { repository: "integration/autoland", pushIds: [64752], pushTimes: [1527872156] }),
  "pulse-hgpush-v2-payload-try-docs-example.vct.json": (s) =>
    pushesOf({ payload: s }, "try", { repository: "try", pushIds: [120040], pushTimes: [1460975081] }),
  "pulse-hgpush-v1-changegroup-mozilla-central.vct-test.json": (s) => pushesOf(s, "mozilla-central", { repository: "mozilla-central", pushIds: [1] }),
  "pulse-hgpush-v2-changegroup-mozilla-central.vct-test.json": (s) => pushesOf(s, "mozilla-central", { repository: "mozilla-central", pushIds: [1] }),
  "pulse-hgpush-v2-changegroup-nested-path.vct-test.json": (s) =>
    pushesOf(s, "integration/foo_Bar-baz", { repository: "integration/foo_Bar-baz", pushIds: [1] }),
  "pulse-hgpush-v2-newrepo-mozilla-central.vct-test.json": (s) => skipped(s, "mozilla-central"),
  "pulse-hgpush-v2-obsolete-rebase.vct-test.json": (s) => skipped(s, "obs"),
  "pulse-hgpush-v2-obsolete-unknown-precursor.vct-test.json": (s) => skipped(s, "obs"),

  // json-pushes and json-rev, served to the service's pushlog client.
  "json-pushes-v2-page1-no-bounds.vct-test.json": (s, r) => pushlogRange(r, s, { pushIds: range(23, 32), lastPushId: 32 }),
  "json-pushes-v2-hidden-changesets.vct-test.json": (s, r) => pushlogRange(r, s, { pushIds: [1, 2, 3, 4], lastPushId: 4 }),
  "json-pushes-v2-full-hidden-changesets.vct-test.json": (s, r) => pushlogFull(r, s, { pushIds: [1, 2, 3, 4] }),
  "json-pushes-v2-full-try-136598-2016.treeherder.json": async (s, r) => {
    const read = await pushlogFull(r, s, { pushIds: [136598] });
    r.serve(s);
    const push = (await r.pushlog.fetchFullRange("try", { startId: 136597, endId: 136598 })).pushes.get(136598);
    assert(push !== undefined && findReviewCommit(push.changesets) === undefined, "a people's Try push read as the bot's");
    return `${read}; not a code-review push`;
  },
  "json-pushes-v2-full-mozilla-central-2013-trimmed.treeherder.json": (s, r) => pushlogFull(r, s, { pushIds: range(33268, 33277) }),
  "json-pushes-v1-startID0.vct-test.json": (s, r) => pushlogRange(r, asV2(s), { pushIds: range(1, 32), lastPushId: 32 }),
  "json-pushes-v1-full.vct-test.json": (s, r) => pushlogFull(r, asV2(s), { pushIds: range(1, 32) }),
  "json-pushes-v1-startdate-enddate.vct-test.json": (s, r) => pushlogRange(r, asV2(s), { pushIds: [1, 2, 3, 4], lastPushId: 4 }),
  "json-pushes-v1-stripped-push-missing.vct-test.json": (s, r) => pushlogRange(r, asV2(s), { pushIds: [1, 3], lastPushId: 3 }),
  "json-pushes-error-404-unknown-revision.vct-test.json": (s, r) => rejected(r, s, 404),
  "json-pushes-error-500-bad-version.vct-test.json": (s, r) => rejected(r, s, 500),
  "json-rev-autoland-cc1ffa88e12c-2018.phabricator-repo-monitor.json": (s, r) => revision(r, s, { pushId: 67864, pushTime: 1534452698 }),
  "json-rev-tip.vct-test.json": (s, r) => {
    const { pushid, pushdate } = s as { pushid: number; pushdate: [number, number] };
    return revision(r, s, { pushId: pushid, pushTime: pushdate[0] });
  },

  // The code-review bot's Try commit and its try_task_config.json.
  "json-automationrelevance-try-code-review-push-2020.treeherder.json": (s) => {
    const commit = findReviewCommit((s as { changesets: Array<{ node: string; author: string; desc: string }> }).changesets);
    assert(commit?.diffPHID === "PHID-DIFF-c4e7dcfpalwiem7bxsnk" && commit.revisionId === 64268, `read ${JSON.stringify(commit)}`);
    return `bot commit ${commit.node.slice(0, 12)} for D${commit.revisionId} ${commit.diffPHID} (author libmozevent)`;
  },
  "try-push-commit-messages.code-review-bot.json": (s) => {
    const sample = s as { stack_test_log_newest_first: { descs: string[]; authors: string[] }; solo_revision_tip_desc: string };
    const { descs, authors } = sample.stack_test_log_newest_first;
    const stack = descs.map((desc, i) => ({ node: String(i).padStart(40, "0"), desc, author: authors[i] ?? "" })).reverse();
    const inStack = findReviewCommit(stack);
    const solo = findReviewCommit([{ node: "f".repeat(40), desc: sample.solo_revision_tip_desc, author: "bot" }]);
    assert(inStack?.diffPHID === "PHID-DIFF-test123" && inStack.revisionId === undefined, `stack read ${JSON.stringify(inStack)}`);
    assert(solo?.diffPHID === "PHID-DIFF-solo" && solo.revisionId === 1234, `solo read ${JSON.stringify(solo)}`);
    return `stack tip ${inStack.diffPHID}; solo ${solo.diffPHID} for D1234`;
  },
  "try_task_config.code-review-bot.json": (s) => {
    const target = targetOfTryTaskConfig(JSON.stringify(s, null, 4));
    assert(target !== undefined && target === (s as { parameters: { phabricator_diff: string } }).parameters.phabricator_diff, `read ${target}`);
    return `bot target ${target}`;
  },

  // Conduit responses, served to the service's Conduit client and review lookups.
  "conduit-differential.diff.search-PHID-DIFF-mpa55sfv2atas4tghu6m-with-commits.code-review.json": (s, r) =>
    diffs(r, s, { phid: "PHID-DIFF-mpa55sfv2atas4tghu6m", dateCreated: 1561982383 }),
  "conduit-differential.diff.search-125397.code-review.json": (s, r) => diffs(r, s, { phid: "PHID-DIFF-mpa55sfv2atas4tghu6m", dateCreated: 1561982383 }),
  "conduit-differential.diff.search-PHID-DIFF-testABcd12-branch-ref.code-review-bot.json": (s, r) => {
    const row = (s as { result: { data: Array<{ phid: string; fields: { dateCreated: number } }> } }).result.data[0];
    return diffs(r, s, { phid: row?.phid ?? "", dateCreated: row?.fields.dateCreated ?? -1 });
  },
  "conduit-differential.diff.search-item-932.concourse-phabricator-pr.json": (s, r) => {
    const row = s as { phid: string; fields: { dateCreated: number } };
    return diffs(r, inEnvelope(s), { phid: row.phid, dateCreated: row.fields.dateCreated });
  },
  "conduit-differential.revision.search-36474.code-review.json": (s, r) => revisions(r, s, { id: 36474, diffPHID: "PHID-DIFF-mpa55sfv2atas4tghu6m" }),
  "conduit-differential.revision.search-51.code-review-bot.json": (s, r) => {
    const row = (s as { result: { data: Array<{ id: number; fields: { diffPHID: string } }> } }).result.data[0];
    return revisions(r, s, { id: row?.id ?? -1, diffPHID: row?.fields.diffPHID ?? "" });
  },
  "conduit-differential.revision.search-item-225.concourse-phabricator-pr.json": (s, r) => {
    const row = s as { id: number; fields: { diffPHID: string } };
    return revisions(r, inEnvelope(s), { id: row.id, diffPHID: row.fields.diffPHID });
  },
  "conduit-diffusion.repository.search-mozilla-central-nss.code-review.json": async (s, r) => {
    r.serve(s);
    const found = await resolveRepositories(r.conduit, ["MOZILLACENTRAL", "NSS"]);
    assert(found.get("MOZILLACENTRAL") === "PHID-REPO-mc" && found.get("NSS") === "PHID-REPO-nss", `read ${JSON.stringify([...found])}`);
    return `MOZILLACENTRAL → ${found.get("MOZILLACENTRAL")}, NSS → ${found.get("NSS")}`;
  },
  "conduit-harbormaster.buildable.search-54057.uber-gonduit.json": async (s, r) => {
    // The service reads no buildable field (the review follows the bot's target); what it reads of
    // this answer is the search envelope and paging, which must hold though error_code is left out.
    r.serve(s);
    const rows = await r.conduit.search("harbormaster.buildable.search", { constraints: { ids: [54057] } });
    assert(rows.length === 1, `read ${rows.length} rows`);
    return "search result read (1 row; no buildable field is used)";
  },
  "conduit-harbormaster.sendmessage-work.code-review.json": async (s, r) => {
    r.serve(s);
    const result = await r.conduit.call("harbormaster.sendmessage", {});
    assert(result === null, `result ${JSON.stringify(result)}`);
    return "result null, no error";
  },
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export interface Outcome {
  file: string;
  ok: boolean;
  detail: string;
}

export async function runConformance(dir: string): Promise<Outcome[]> {
  // The answers to come, in order; the last one is repeated.
  let queue: Answer[] = [{ status: 200, headers: { "content-type": "application/json" }, text: "{}" }];
  const server = createServer((_req, res) => {
    const next = (queue.length > 1 ? queue.shift() : queue[0]) as Answer;
    res.writeHead(next.status, next.headers);
    res.end(next.text);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const upstreams: Upstream[] = [
    createUpstream({ service: "hgmo", baseUrl: base, timeoutMs: 5000, maxRetries: 0 }),
    createUpstream({ service: "phabricator", baseUrl: base, timeoutMs: 5000, maxRetries: 0 }),
  ];
  const token = "api-conformanceconformanceconfo";
  const conduit = createConduitClient(upstreams[1] as Upstream, token);
  const readers: Readers & ServedReaders = {
    pushlog: createPushlogClient(upstreams[0] as Upstream),
    conduit,
    reviews: createReviewLookup(conduit),
    phabricator: upstreams[1] as Upstream,
    token,
    serve(body, status = 200) {
      queue = [{ status, headers: { "content-type": "application/json" }, text: JSON.stringify(body) }];
    },
    answer(...answers) {
      queue = answers;
    },
  };
  const outcomes: Outcome[] = [];
  try {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()) {
      if (LEFT_OUT.has(file)) {
        outcomes.push({ file, ok: true, detail: "left out: a trimmed mock, not a shape (SOURCES.md)" });
        continue;
      }
      const check = EXPECTATIONS[file];
      if (!check) {
        outcomes.push({ file, ok: false, detail: "no expectation for this sample: say what the service must read from it" });
        continue;
      }
      try {
        const sample: unknown = JSON.parse(readFileSync(join(dir, file), "utf8"));
        outcomes.push({ file, ok: true, detail: await check(sample, readers) });
      } catch (error) {
        outcomes.push({ file, ok: false, detail: (error as Error).message });
      }
    }
    if (existsSync(join(dir, "served"))) outcomes.push(...(await runServed(join(dir, "served"), readers)));
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
  return outcomes;
}

if (import.meta.main) {
  const dir = resolve(process.env.REAL_DATA_DIR ?? join(import.meta.dirname, "..", "..", "shared", "real-data"));
  const outcomes = await runConformance(dir);
  for (const o of outcomes) console.log(`${o.ok ? "ok  " : "FAIL"} ${o.file}: ${o.detail}`);
  const failed = outcomes.filter((o) => !o.ok).length;
  const read = outcomes.filter((o) => o.ok && !o.detail.startsWith("left out")).length;
  console.log(`conformance on ${dir}: ${read} samples read as expected, ${outcomes.length - read - failed} left out by name, ${failed} failed`);
  process.exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
}
