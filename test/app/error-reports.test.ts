// Unexpected errors to Sentry through the real SDK (@sentry/node), sent to a local HTTP listener in
// place of Sentry's ingest: what arrives, and that no secret does. Sentry's envelope endpoint is
// POST /api/<project id>/envelope/ and answers 200 (https://develop.sentry.dev/sdk/data-model/envelopes/);
// the listener answers 200 with an empty JSON object and records the body.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { createSentryReporter } from "../../src/app/error-reports.ts";
import { scrubSecrets } from "../../src/core/scrub.ts";
import { createScheduler } from "../../src/run/scheduler.ts";

const PULSE_PASSWORD = "pulse-password-never-sent";
const CONDUIT_TOKEN = "api-conduittokenneversent";
let server: Server;
const received: Array<{ path: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      received.push({ path: req.url ?? "", body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("scrubSecrets", () => {
  it("replaces every occurrence of each secret, in keys and nested values, and leaves the rest", () => {
    const event = { message: `token ${CONDUIT_TOKEN} and ${CONDUIT_TOKEN}`, extra: { [PULSE_PASSWORD]: [PULSE_PASSWORD, 3] }, level: "error" };
    expect(scrubSecrets(event, [PULSE_PASSWORD, CONDUIT_TOKEN, undefined])).toEqual({
      message: "token [redacted] and [redacted]",
      extra: { "[redacted]": ["[redacted]", 3] },
      level: "error",
    });
  });
});

describe("SENTRY_DSN", () => {
  it("sends an unexpected error with where it happened, and no secret anywhere in what is sent", async () => {
    const port = (server.address() as AddressInfo).port;
    const reporter = await createSentryReporter({
      dsn: `http://publickey0123@127.0.0.1:${port}/42`,
      release: "phabricator-repo-monitor@0.1.0+test",
      environment: "test",
      secrets: [PULSE_PASSWORD, CONDUIT_TOKEN, undefined],
      log: pino({ level: "silent" }),
    });
    reporter.report(new Error(`a bug that quotes the Conduit token ${CONDUIT_TOKEN} and the Pulse password ${PULSE_PASSWORD}`), "check replication");
    await reporter.flush(5000);
    expect(received).toHaveLength(1);
    const { path, body } = received[0] as { path: string; body: string };
    expect(path).toMatch(/^\/api\/42\/envelope\//);
    expect(body).toContain("a bug that quotes the Conduit token [redacted] and the Pulse password [redacted]");
    expect(body).toContain('"where":"check replication"');
    expect(body).toContain('"release":"phabricator-repo-monitor@0.1.0+test"');
    expect(body).not.toContain(CONDUIT_TOKEN);
    expect(body).not.toContain(PULSE_PASSWORD);
  });
});

describe("the scheduler's unexpected errors", () => {
  it("are the runs that throw; a check that reports a failure is not one", async () => {
    const unexpected: string[] = [];
    const scheduler = createScheduler({
      checks: [
        { name: "reports", run: () => Promise.resolve({ ok: false }) },
        { name: "throws", run: () => Promise.reject(new TypeError("undefined is not a function")) },
      ],
      policy: { maxRunMs: 1000, stopGraceMs: 100, maxConsecutiveFailures: 3 },
      log: pino({ level: "silent" }),
      now: Date.now,
      onUnexpected: (error, check) => unexpected.push(`${check}: ${(error as Error).message}`),
    });
    await scheduler.runAll(new AbortController().signal);
    expect(unexpected).toEqual(["throws: undefined is not a function"]);
  });
});
