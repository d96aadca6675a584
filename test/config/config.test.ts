import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, VARIABLES, readConfig, secretsOf } from "../../src/config/config.ts";
import { loadDotenv } from "../../src/cli/io.ts";

const BASE = {
  PULSE_USERNAME: "monitor",
  PULSE_PASSWORD: "s3cret-pulse-password",
  PULSE_QUEUE_NAME: "phabricator-repo-monitor",
  REPOSITORIES: "integration/autoland=MOZILLACENTRAL,mozilla-central=MOZILLACENTRAL",
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("readConfig", () => {
  it("applies the contract's defaults", () => {
    const config = readConfig(BASE);
    expect(config.pulse.url.href).toBe("amqps://pulse.mozilla.org:5671");
    expect(config.pulse.exchange).toBe("exchange/hgpushes/v2");
    expect(config.pulse.queue).toBe("queue/monitor/phabricator-repo-monitor");
    expect(config.hgUrl).toBe("https://hg.mozilla.org");
    expect(config.phabricatorUrl).toBe("https://phabricator.services.mozilla.com");
    expect(config.phabricatorApiToken).toBeUndefined();
    expect(config.checkSchedule).toBe("*/5 * * * *");
    expect(config.checkIntervalMs).toBe(300_000);
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe("info");
    expect(config.upstreamTimeoutMs).toBe(30_000);
    expect(readConfig({ ...BASE, CHECK_SCHEDULE: "* * * * * *" }).upstreamTimeoutMs).toBe(250);
    expect(config.repositories).toEqual([
      { path: "integration/autoland", mirror: { kind: "phabricator-page", callsign: "MOZILLACENTRAL" } },
      { path: "mozilla-central", mirror: { kind: "phabricator-page", callsign: "MOZILLACENTRAL" } },
    ]);
    expect(config.noInputAfterMs).toEqual({ default: 6 * 3600_000, byRepository: {} });
    expect(config.stalledAfterChecks).toBe(6);
  });

  it("reads <CALLSIGN>:git as a repository checked by its Git commits; the plain form keeps meaning hg", () => {
    expect(
      readConfig({ ...BASE, REPOSITORIES: "integration/autoland=FIREFOX:git,mozilla-central=MOZILLACENTRAL", PHABRICATOR_API_TOKEN: "api-x" }).repositories,
    ).toEqual([
      { path: "integration/autoland", mirror: { kind: "phabricator-conduit", callsign: "FIREFOX", vcs: "git" } },
      { path: "mozilla-central", mirror: { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" } },
    ]);
  });

  it("turns the Git → hg sync on with GIT_BRANCHES, with Lando's exchange, routing keys and the /git queue", () => {
    expect(readConfig(BASE).gitSync).toBeUndefined();
    expect(readConfig({ ...BASE, GIT_BRANCHES: "autoland=integration/autoland, beta=releases/mozilla-beta" }).gitSync).toEqual({
      branches: [
        { branch: "autoland", repository: "integration/autoland" },
        { branch: "beta", repository: "releases/mozilla-beta" },
      ],
      exchange: "exchange/landoprod/pushes",
      routingKeys: ["gitpushes.#"],
      queue: "queue/monitor/phabricator-repo-monitor/git",
      repoUrl: "https://github.com/mozilla-firefox/firefox",
    });
  });

  it("reads NO_INPUT_HOURS as a default and per-repository windows", () => {
    expect(readConfig({ ...BASE, NO_INPUT_HOURS: "12, mozilla-central=48" }).noInputAfterMs).toEqual({
      default: 12 * 3600_000,
      byRepository: { "mozilla-central": 48 * 3600_000 },
    });
    expect(readConfig({ ...BASE, NO_INPUT_HOURS: "mozilla-central=48" }).noInputAfterMs.default).toBe(6 * 3600_000);
  });

  it("chooses each repository's mirror kind: Conduit with a token, HEAD requests without", () => {
    expect(readConfig({ ...BASE, PHABRICATOR_API_TOKEN: "api-abcdefghijklmnopqrstuvwxyz12" }).repositories.map((r) => r.mirror)).toEqual([
      { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" },
      { kind: "phabricator-conduit", callsign: "MOZILLACENTRAL" },
    ]);
  });

  it("accepts the earlier service's single-repository variables when REPOSITORIES is unset", () => {
    const { REPOSITORIES: _, ...legacy } = BASE;
    expect(readConfig({ ...legacy, PULSE_QUEUE_ROUTING_KEY: "integration/autoland", REPOSITORY_CALLSIGN: "MOZILLACENTRAL" }).repositories).toEqual([
      { path: "integration/autoland", mirror: { kind: "phabricator-page", callsign: "MOZILLACENTRAL" } },
    ]);
    expect(readConfig({ ...legacy, SOURCE_REPOSITORY: "https://hg.mozilla.org/mozilla-central", REPOSITORY_CALLSIGN: "MOZILLACENTRAL" }).repositories).toEqual([
      { path: "mozilla-central", mirror: { kind: "phabricator-page", callsign: "MOZILLACENTRAL" } },
    ]);
  });

  it("reports every problem at once, one line each, naming the variable", () => {
    const found = problems({});
    expect(found).toEqual([
      expect.stringMatching(/^PULSE_USERNAME: not set; /),
      expect.stringMatching(/^PULSE_PASSWORD: not set; /),
      expect.stringMatching(/^PULSE_QUEUE_NAME: not set; /),
      expect.stringMatching(/^REPOSITORIES: not set; /),
    ]);
  });

  it("reports every problem of every variable, each once, even where one variable's problem would hide another's", () => {
    const found = problems({
      ...BASE,
      PULSE_URL: "amqp://user:pw@pulse.mozilla.org",
      PULSE_QUEUE_NAME: "queue/monitor/q",
      PORT: "abc",
      CHECK_SCHEDULE: "* * * * *",
      UPSTREAM_TIMEOUT_SECONDS: "120",
      REPOSITORIES: "a=lower,b=X:svn,c=C,c=D,d=lower",
      NO_INPUT_HOURS: "six,a=0",
      GIT_BRANCHES: "autoland,beta=releases/mozilla-beta,beta=x",
      METRICS_TOKEN: "short-new,short-old",
    });
    expect(found).toEqual([
      "PULSE_URL: must not carry credentials; put them in PULSE_USERNAME and PULSE_PASSWORD",
      "PULSE_URL: amqp:// would send credentials in clear; use amqps:// (amqp:// is accepted for localhost only)",
      "PULSE_QUEUE_NAME: give only the name, e.g. phabricator-repo-monitor, not queue/<user>/<name>; the service makes it queue/<PULSE_USERNAME>/<PULSE_QUEUE_NAME>",
      "PORT: must be a whole number from 0 to 65535",
      'REPOSITORIES: callsign "lower" must be upper-case letters only, e.g. MOZILLACENTRAL',
      'REPOSITORIES: "b=X:svn" ends in ":svn"; the only suffix is :git (check the pushes\' Git commits), e.g. integration/autoland=FIREFOX:git',
      'REPOSITORIES: "c" is listed twice; keep one entry per hg path',
      'NO_INPUT_HOURS: hours without a push before a repository is no_input, e.g. 6, or per repository: 6,mozilla-central=48 (got "six")',
      'NO_INPUT_HOURS: hours without a push before a repository is no_input, e.g. 6, or per repository: 6,mozilla-central=48 (got "a=0")',
      'GIT_BRANCHES: "autoland" is not <git branch>=<hg path>; write e.g. autoland=integration/autoland,beta=releases/mozilla-beta',
      'GIT_BRANCHES: branch "beta" is listed twice',
      "METRICS_TOKEN: the first token (the new one) must be at least 16 characters; generate one with `openssl rand -hex 32`",
      "METRICS_TOKEN: the second token (the old one) must be at least 16 characters; generate one with `openssl rand -hex 32`",
      "UPSTREAM_TIMEOUT_SECONDS: 120 s is not shorter than the 60 s between checks; keep it well under the interval",
    ]);
    expect(found.join("\n")).not.toMatch(/short-new|short-old|pw@/);
  });

  it("checks the variables that go together whenever both are valid, whatever else is wrong", () => {
    expect(problems({ ...BASE, PORT: "abc", UPSTREAM_TIMEOUT_SECONDS: "300" })).toEqual([
      "PORT: must be a whole number from 0 to 65535",
      "UPSTREAM_TIMEOUT_SECONDS: 300 s is not shorter than the 300 s between checks; keep it well under the interval",
    ]);
    expect(problems({ ...BASE, LOG_LEVEL: "loud", CODE_REVIEW_TRY_REPOSITORY: "mozilla-central" })).toEqual([
      "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent",
      "CODE_REVIEW_TRY_REPOSITORY: is also in REPOSITORIES; Try is measured for the code-review pipeline, not mirrored",
    ]);
  });

  it("names the earlier service's variables in their own problems", () => {
    const { REPOSITORIES: _, ...legacy } = BASE;
    expect(problems({ ...legacy, SOURCE_REPOSITORY: "", PULSE_QUEUE_ROUTING_KEY: "", REPOSITORY_CALLSIGN: "" })).toEqual([
      expect.stringMatching(/^REPOSITORIES: not set; /),
    ]);
    expect(problems({ ...legacy, PULSE_QUEUE_ROUTING_KEY: "integration/autoland", REPOSITORY_CALLSIGN: "lower" })).toEqual([
      'PULSE_QUEUE_ROUTING_KEY: callsign "lower" must be upper-case letters only, e.g. MOZILLACENTRAL',
    ]);
    expect(problems({ ...legacy, REPOSITORY_CALLSIGN: "MOZILLACENTRAL" })).toEqual([expect.stringMatching(/^PULSE_QUEUE_ROUTING_KEY: not set; /)]);
  });

  it.each([
    ["PULSE_URL", "http://pulse.mozilla.org", /^PULSE_URL: must start with amqps:\/\//],
    ["PULSE_URL", "amqps://user:pw@pulse.mozilla.org", /^PULSE_URL: must not carry credentials/],
    ["PULSE_URL", "not a url", /^PULSE_URL: not a URL/],
    ["PULSE_URL", "amqp://pulse.mozilla.org:5672", /^PULSE_URL: amqp:\/\/ would send credentials in clear; use amqps:\/\//],
    ["HG_URL", "http://hg.mozilla.org", /^HG_URL: http:\/\/ would send credentials in clear; use https:\/\//],
    ["PHABRICATOR_URL", "http://phabricator.services.mozilla.com", /^PHABRICATOR_URL: http:\/\/ would send credentials in clear/],
    ["METRICS_TOKEN", "short-token", /^METRICS_TOKEN: must be at least 16 characters/],
    ["PULSE_USERNAME", "has space", /^PULSE_USERNAME: must be a Pulse user name/],
    ["PULSE_QUEUE_NAME", "a queue", /^PULSE_QUEUE_NAME: use letters/],
    [
      "PULSE_QUEUE_NAME",
      "queue/monitor/phabricator-repo-monitor",
      /^PULSE_QUEUE_NAME: give only the name, e.g. phabricator-repo-monitor, not queue\/<user>\/<name>/,
    ],
    ["METRICS_TOKEN", "0123456789abcdef,short-old", /^METRICS_TOKEN: the second token \(the old one\) must be at least 16 characters/],
    ["METRICS_TOKEN", "a,b,c", /^METRICS_TOKEN: holds 3 comma-separated values; give one token, or two during a rotation: <new>,<old>$/],
    ["REPOSITORIES", "integration/autoland", /^REPOSITORIES: "integration\/autoland" is not <hg path>=<CALLSIGN>/],
    ["REPOSITORIES", "/autoland/=X", /^REPOSITORIES: "\/autoland\/" is not an hg path/],
    ["REPOSITORIES", "a=lower", /^REPOSITORIES: callsign "lower" must be upper-case/],
    ["REPOSITORIES", "a=CENTRAL2", /^REPOSITORIES: callsign "CENTRAL2" must be upper-case letters only/],
    ["REPOSITORIES", "a=A,a=B", /^REPOSITORIES: "a" is listed twice/],
    ["REPOSITORIES", "integration/autoland=FIREFOX:svn", /^REPOSITORIES: "integration\/autoland=FIREFOX:svn" ends in ":svn"; the only suffix is :git/],
    ["REPOSITORIES", "integration/autoland=firefox:git", /^REPOSITORIES: callsign "firefox" must be upper-case/],
    ["REPOSITORIES", " , ", /^REPOSITORIES: is empty/],
    ["HG_URL", "ftp://hg.mozilla.org", /^HG_URL: must be an http\(s\) URL/],
    ["HG_URL", "https://hg.mozilla.org/?x=1", /^HG_URL: must be a plain base URL/],
    ["PHABRICATOR_URL", "nope", /^PHABRICATOR_URL: not a URL/],
    ["PHABRICATOR_API_TOKEN", "api-with space", /^PHABRICATOR_API_TOKEN: must be a single word/],
    ["CHECK_SCHEDULE", "every five minutes", /^CHECK_SCHEDULE: not a valid node-cron expression/],
    ["PORT", "80a", /^PORT: must be a whole number from 0 to 65535/],
    ["PORT", "70000", /^PORT: must be a whole number from 0 to 65535/],
    ["LOG_LEVEL", "loud", /^LOG_LEVEL: must be one of/],
    ["CODE_REVIEW_TRY_REPOSITORY", "/try", /^CODE_REVIEW_TRY_REPOSITORY: must be an hg path/],
    ["CODE_REVIEW_TRY_REPOSITORY", "mozilla-central", /^CODE_REVIEW_TRY_REPOSITORY: is also in REPOSITORIES/],
    ["QUEUE_DEPTH_QUEUES", "queue/u/a,other", /^QUEUE_DEPTH_QUEUES: each entry must be a full queue name/],
    ["UPSTREAM_TIMEOUT_SECONDS", "0", /^UPSTREAM_TIMEOUT_SECONDS: must be a whole number from 1 to 300/],
    ["UPSTREAM_TIMEOUT_SECONDS", "300", /^UPSTREAM_TIMEOUT_SECONDS: 300 s is not shorter than the 300 s between checks/],
    ["PHABRICATOR_HEAD_CONCURRENCY", "100", /^PHABRICATOR_HEAD_CONCURRENCY: must be a whole number from 1 to 64/],
    ["MAX_MESSAGES_PER_CHECK", "-1", /^MAX_MESSAGES_PER_CHECK: must be a whole number/],
    ["NO_INPUT_HOURS", "six", /^NO_INPUT_HOURS: hours without a push .* \(got "six"\)$/],
    ["NO_INPUT_HOURS", "6,mozilla-central=0", /^NO_INPUT_HOURS: .*\(got "mozilla-central=0"\)$/],
    ["NO_INPUT_HOURS", "6,releases/mozilla-beta=48", /^NO_INPUT_HOURS: releases\/mozilla-beta is not in REPOSITORIES$/],
    ["STALLED_AFTER_CHECKS", "1", /^STALLED_AFTER_CHECKS: must be a whole number from 2 to 1000/],
    ["GIT_BRANCHES", "autoland", /^GIT_BRANCHES: "autoland" is not <git branch>=<hg path>/],
    ["GIT_BRANCHES", "autoland=a,autoland=b", /^GIT_BRANCHES: branch "autoland" is listed twice/],
    ["LANDO_ROUTING_KEYS", "git pushes", /^LANDO_ROUTING_KEYS: a comma-separated list of AMQP binding keys/],
  ])("rejects %s=%j", (name, value, expected) => {
    const found = problems({ ...BASE, [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  it("never repeats a secret's value in a message", () => {
    const token = "api-bad token-value";
    const found = problems({ ...BASE, PHABRICATOR_API_TOKEN: token, PULSE_URL: "amqps://monitor:s3cret-pulse-password@host" });
    expect(found.join("\n")).not.toContain("s3cret-pulse-password");
    expect(found.join("\n")).not.toContain(token);
  });

  it("accepts amqp:// and http:// for this host only, where nothing crosses a network", () => {
    const local = { PULSE_URL: "amqp://127.0.0.1:5672", HG_URL: "http://localhost:8000", PHABRICATOR_URL: "http://[::1]:9000" };
    expect(problems({ ...BASE, ...local })).toEqual([]);
  });

  it("reads METRICS_TOKEN as one token, or two during a rotation (<new>,<old>), each trimmed", () => {
    const token = "new-token-0123456789";
    const old = "old-token-0123456789";
    expect(readConfig(BASE).metricsTokens).toEqual([]);
    expect(readConfig({ ...BASE, METRICS_TOKEN: ` ${token} ` }).metricsTokens).toEqual([token]);
    expect(readConfig({ ...BASE, METRICS_TOKEN: `${token} , ${old}` }).metricsTokens).toEqual([token, old]);
  });

  it("says which of two metrics tokens is bad, one line each, and never a token", () => {
    const good = "good-token-0123456789";
    expect(problems({ ...BASE, METRICS_TOKEN: `short-new-one,${good}` })).toEqual([
      "METRICS_TOKEN: the first token (the new one) must be at least 16 characters; generate one with `openssl rand -hex 32`",
    ]);
    expect(problems({ ...BASE, METRICS_TOKEN: `${good},` })).toEqual([
      "METRICS_TOKEN: the second token (the old one) must be at least 16 characters; generate one with `openssl rand -hex 32`",
    ]);
    const both = problems({ ...BASE, METRICS_TOKEN: "short-new-one, short-old-one" });
    expect(both).toHaveLength(2);
    expect(both.join("\n")).not.toMatch(/short-(new|old)-one/);
  });

  it("holds each metrics token as a secret of its own, for scrubbing", () => {
    const config = readConfig({ ...BASE, METRICS_TOKEN: "new-token-0123456789,old-token-0123456789" });
    expect(secretsOf(config)).toEqual(["s3cret-pulse-password", "new-token-0123456789", "old-token-0123456789"]);
  });

  it("treats an empty variable as unset", () => {
    expect(readConfig({ ...BASE, PORT: "", PHABRICATOR_API_TOKEN: "  " }).port).toBe(8080);
  });
});

describe(".env.example", () => {
  const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
  const named = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));

  it("lists every variable the service reads, and no other", () => {
    expect([...named].sort()).toEqual([...VARIABLES].sort());
  });

  it("fills in no queue name, so that a copy never reads the production service's queue", () => {
    expect(example).toMatch(/^PULSE_QUEUE_NAME=$/m);
  });

  it("explains each variable with a comment right above it", () => {
    const lines = example.split("\n");
    for (const name of VARIABLES) {
      const at = lines.findIndex((l) => new RegExp(`^#?\\s*${name}=`).test(l));
      expect(lines[at - 1], name).toMatch(/^#(?!\s*[A-Z][A-Z0-9_]+=)\s*\S/);
    }
  });
});

describe("variable names", () => {
  it("stops start-up on a variable that looks like one of the service's, naming the one it resembles", () => {
    expect(problems({ ...BASE, HG_ULR: "https://hg.example.org", METRICS_TOKN: "t", PHABRICATOR_TOKEN: "api-x", LOG_LEVL: "debug" })).toEqual([
      "HG_ULR: not a variable of this service; did you mean HG_URL? (unset HG_ULR if it is meant for something else)",
      "LOG_LEVL: not a variable of this service; did you mean LOG_LEVEL? (unset LOG_LEVL if it is meant for something else)",
      "METRICS_TOKN: not a variable of this service; did you mean METRICS_TOKEN? (unset METRICS_TOKN if it is meant for something else)",
      "PHABRICATOR_TOKEN: not a variable of this service; did you mean PHABRICATOR_API_TOKEN? (unset PHABRICATOR_TOKEN if it is meant for something else)",
    ]);
  });

  it("names the earlier service's ignored variables once, as notices, not errors", () => {
    const config = readConfig({ ...BASE, DEBUG: "1", PULSE_QUEUE_READ_TIMEOUT: "5" });
    expect(config.notices).toEqual([
      "DEBUG: ignored (the earlier Python service read it; this one does not)",
      "PULSE_QUEUE_READ_TIMEOUT: ignored (the earlier Python service read it; this one does not)",
    ]);
  });

  it("never minds variables that are not the service's, however close to a short name like PORT", () => {
    const others = {
      HOME: "/root",
      TERM: "xterm",
      PATH: "/bin",
      DYNO: "web.1",
      NODE_ENV: "production",
      PWD: "/app",
      HOSTNAME: "h",
      PORTS: "1",
      SORT: "x",
      WEB_CONCURRENCY: "1",
      MEMORY_AVAILABLE: "512",
    };
    expect(problems({ ...BASE, ...others })).toEqual([]);
    expect(problems({ ...BASE, ...(process.env as Record<string, string>) }).filter((p) => !p.startsWith("PULSE_") && !p.startsWith("REPOSITORIES"))).toEqual(
      [],
    );
  });
});

describe("variable names in .env", () => {
  it("a typo in .env stops start-up as one in the environment does", () => {
    const dotenvPath = join(mkdtempSync(join(tmpdir(), "phabmon-env-")), ".env");
    writeFileSync(dotenvPath, "PHABRICATOR_API_TOKN=api-xyz\n");
    const env: Record<string, string | undefined> = { ...BASE };
    loadDotenv({ env, dotenvPath, stdout: () => undefined, stderr: () => undefined, isTTY: false });
    expect(problems(env)).toEqual([
      "PHABRICATOR_API_TOKN: not a variable of this service; did you mean PHABRICATOR_API_TOKEN? (unset PHABRICATOR_API_TOKN if it is meant for something else)",
    ]);
  });
});
