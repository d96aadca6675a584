// A corpus of bad messages mixed with good ones, through the real broker: each is counted under its
// fixed reason and logged once with a truncated body; none stops the check or stays on the queue, and
// the good pushes around them are verified.
import { describe, expect, it } from "vitest";
import { decodeHgpushMessage } from "../src/hgpush/hgpush-message.ts";
import { planCheck } from "../src/hgpush/check-plan.ts";
import { badMessages } from "./support/bad-messages.ts";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const HG = "https://hg.mozilla.org";
const harness = harnessPerTest();

describe("the bad-message corpus", () => {
  const corpus = badMessages(HG, AUTOLAND);

  it("has at least 25 kinds of bad message", () => {
    expect(corpus.filter((m) => m.outcome === "rejected").length).toBeGreaterThanOrEqual(25);
  });

  it.each(corpus)("sets aside $name as $outcome/$reason", ({ body, routingKey, contentType, outcome, reason }) => {
    const decoded = decodeHgpushMessage({ body, routingKey, contentType: contentType ?? "application/json" }, HG);
    const [aside] = planCheck([{ index: 0, decoded }], new Set([AUTOLAND])).setAside;
    expect(aside).toMatchObject({ outcome, reason });
  });
});

it("report-lag counts, logs and drops every bad message, and verifies the good ones between them", async () => {
  const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
  const corpus = badMessages(h.hg.url, AUTOLAND);
  await h.broker.prepareQueue(["projects/elm"]);
  const t = Math.floor(Date.now() / 1000) - 600;
  let pushId = 1;
  for (const bad of corpus) {
    await h.push(AUTOLAND, pushId, t + pushId);
    pushId++;
    await h.broker.publish(bad.routingKey, null, { raw: bad.body, contentType: bad.contentType ?? "application/json" });
  }
  await h.push(AUTOLAND, pushId, t + pushId);

  const svc = await h.start([]);
  // Messages routed to autoland that name other hosts: the check verifies what it can but cannot vouch
  // for autoland (a wrong HG_URL would look exactly like this), so it reports it unknown.
  const failed = await svc.waitForLog("check failed");
  expect(String(failed.error)).toMatch(new RegExp(`^messages for ${AUTOLAND} name .*, but HG_URL is ${h.hg.url}$`));
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  svc.signal("SIGTERM");
  expect((await svc.finished).code).toBe(0);

  const expected = new Map<string, number>();
  for (const bad of corpus) expected.set(`${bad.outcome}/${bad.reason}`, (expected.get(`${bad.outcome}/${bad.reason}`) ?? 0) + 1);
  for (const [key, count] of expected) {
    const [outcome, reason] = key.split("/");
    const name = outcome === "rejected" ? "phabmon_messages_rejected_total" : "phabmon_messages_skipped_total";
    expect(text, key).toContain(`${name}{reason="${reason}"} ${count}`);
  }
  const logged = svc.logs.filter((l) => l.msg === "set aside a malformed or foreign message");
  expect(logged).toHaveLength(corpus.filter((m) => m.outcome === "rejected").length);
  for (const line of logged) expect(String(line.body).length).toBeLessThanOrEqual(300);
  expect(failed).toMatchObject({ verified: pushId, pending: 0 });
  expect(await h.broker.depth()).toBe(0);
  // Only HG_URL was asked, whatever the messages said.
  expect(h.hg.requests.every((r) => r.startsWith(`GET /${AUTOLAND}/json-pushes`))).toBe(true);
});
