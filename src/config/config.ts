// The only reader of the environment. Every problem is reported at once, one line each, naming the
// variable and how to fix it; a secret's value never appears in a message.
import { z } from "zod";
import cron from "node-cron";
import { closest, distance } from "fastest-levenshtein";
import type { MirrorSpec } from "../mirror/mirror.ts";

export interface Repository {
  /** hg path below HG_URL, e.g. `integration/autoland`; also the Pulse routing key. */
  path: string;
  /** Where its commits are looked for (src/mirror/mirror.ts): the callsign lives inside the Phabricator kinds. */
  mirror: MirrorSpec;
}

/** One `<hg path>=<CALLSIGN>` of REPOSITORIES, before the mirror kind is chosen. */
interface RepositoryEntry {
  path: string;
  callsign: string;
  /** `<CALLSIGN>:git`: the mirror is asked for the Git commits of the pushes (git_changesets). */
  git?: boolean;
}

export interface Config {
  pulse: {
    url: URL;
    username: string;
    password: string;
    exchange: string;
    queueName: string;
    /** `queue/<user>/<name>`: the durable queue the service owns. */
    queue: string;
    /** `queue/<user>/<name>/try`: the queue of Try pushes, declared only when the pipeline is measured. */
    tryQueue: string;
    /** `queue/<user>/<name>/rejected`: every message set aside, bounded; fed through `rejectedExchange`. */
    rejectedQueue: string;
    /** `exchange/<user>/<name>/rejected`: Pulse lets a user publish only to its own exchanges. */
    rejectedExchange: string;
  };
  repositories: Repository[];
  hgUrl: string;
  phabricatorUrl: string;
  phabricatorApiToken: string | undefined;
  checkSchedule: string;
  /** Time between two scheduled checks, read off CHECK_SCHEDULE. */
  checkIntervalMs: number;
  port: number;
  /**
   * The tokens that open /metrics, /status, / and the heartbeat's details: one, or two during a
   * rotation (`METRICS_TOKEN=<new>,<old>`); empty when METRICS_TOKEN is unset (those paths are public).
   */
  metricsTokens: readonly string[];
  codeReviewTryRepository: string | undefined;
  queueDepthQueues: string[];
  logLevel: string;
  upstreamTimeoutMs: number;
  phabricatorHeadConcurrency: number;
  maxMessagesPerCheck: number;
  /** No push received for this long (ms) is the `no_input` status: NO_INPUT_HOURS, per repository. */
  noInputAfterMs: { default: number; byRepository: Readonly<Record<string, number>> };
  /** The same push holding the lag in this many checks in a row is the `stalled` status. */
  stalledAfterChecks: number;
  /** Where the earlier service's DogStatsD gauge goes; undefined when STATSD_HOST is unset. */
  statsd: { host: string; port: number } | undefined;
  /** Where unexpected errors are reported (Sentry); undefined when SENTRY_DSN is unset. */
  sentryDsn: string | undefined;
  /** The Git → hg sync check; undefined (off) when GIT_BRANCHES is unset. */
  gitSync: GitSyncConfig | undefined;
  /** Variables set but ignored (the earlier service's), to be said once at start-up. */
  notices: string[];
}

/**
 * Every secret the process holds: scrubbed from what an upstream says wherever its words become an
 * error, a log line or an answer (Phabricator repeats a refused token, a broker may repeat anything).
 */
export function secretsOf(config: Config): string[] {
  // Each metrics token on its own: a log line or an answer may hold one without the other.
  return [config.pulse.password, config.phabricatorApiToken, ...config.metricsTokens, config.sentryDsn].filter((s): s is string => s !== undefined && s !== "");
}

export interface GitSyncConfig {
  /** Each Git branch and the hg repository git-hg-sync replays it into, in GIT_BRANCHES order. */
  branches: Array<{ branch: string; repository: string }>;
  /** Lando's push exchange (LANDO_EXCHANGE) and the routing keys bound (LANDO_ROUTING_KEYS). */
  exchange: string;
  routingKeys: string[];
  /** `queue/<user>/<name>/git`: Lando's push messages, declared and bound at start. */
  queue: string;
  /** Lando's `repo_url` of the Git repository whose branches these are; other repositories' pushes are skipped. */
  repoUrl: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Every variable the service reads, with what `.env.example` must say about it. */
export const VARIABLES = [
  "PULSE_URL",
  "PULSE_USERNAME",
  "PULSE_PASSWORD",
  "PULSE_EXCHANGE",
  "PULSE_QUEUE_NAME",
  "REPOSITORIES",
  "PULSE_QUEUE_ROUTING_KEY",
  "SOURCE_REPOSITORY",
  "REPOSITORY_CALLSIGN",
  "HG_URL",
  "PHABRICATOR_URL",
  "PHABRICATOR_API_TOKEN",
  "CHECK_SCHEDULE",
  "PORT",
  "METRICS_TOKEN",
  "CODE_REVIEW_TRY_REPOSITORY",
  "QUEUE_DEPTH_QUEUES",
  "LOG_LEVEL",
  "UPSTREAM_TIMEOUT_SECONDS",
  "PHABRICATOR_HEAD_CONCURRENCY",
  "MAX_MESSAGES_PER_CHECK",
  "NO_INPUT_HOURS",
  "STALLED_AFTER_CHECKS",
  "STATSD_HOST",
  "STATSD_PORT",
  "SENTRY_DSN",
  "GIT_BRANCHES",
  "LANDO_EXCHANGE",
  "LANDO_ROUTING_KEYS",
  "GIT_REPO_URL",
] as const;

type Env = Record<string, string | undefined>;

/** Names of the service contract that this version does not read yet: said once, not an error. */
const NOT_YET_READ: string[] = [];
/** The earlier Python service's variables that this one ignores. */
const IGNORED = ["DEBUG", "PULSE_QUEUE_READ_TIMEOUT"];
/** Prefixes only this service's variables use: any other name with one is a typo. */
const PREFIXES = [
  "PULSE_",
  "HG_",
  "PHABRICATOR_",
  "METRICS_",
  "CODE_REVIEW_",
  "QUEUE_DEPTH_",
  "UPSTREAM_",
  "CHECK_",
  "MAX_MESSAGES_",
  "NO_INPUT_",
  "STALLED_",
  "STATSD_",
  "SENTRY_",
];
/** Variables of the platform, the shell and Node that are never ours, however close to one of ours. */
const NOT_OURS = new Set([
  "HOME",
  "TERM",
  "PATH",
  "DYNO",
  "NODE_ENV",
  "PWD",
  "OLDPWD",
  "HOSTNAME",
  "HOST",
  "LANG",
  "SHELL",
  "USER",
  "CI",
  "TZ",
  "NODE_OPTIONS",
  "REAL_DATA_DIR",
  "TEST_AMQP_URL",
  // Read by the Sentry SDK itself (https://docs.sentry.io/platforms/javascript/guides/node/configuration/options/).
  "SENTRY_ENVIRONMENT",
  "SENTRY_RELEASE",
]);

/**
 * Problems with the names of the variables set: one that is not the service's but looks like one (a
 * service prefix, or a small edit away from a name of at least 6 letters: PORT is too short to
 * guess at) stops start-up, naming the variable it most resembles. Also the notices of ignored ones.
 */
export function variableNameProblems(env: Env): { problems: string[]; notices: string[] } {
  const known = [...VARIABLES, ...NOT_YET_READ];
  const problems: string[] = [];
  const notices: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (env[name] === undefined || known.includes(name) || NOT_OURS.has(name) || !/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
    if (IGNORED.includes(name)) {
      notices.push(`${name}: ignored (the earlier Python service read it; this one does not)`);
      continue;
    }
    const nearest = closest(name, known);
    const near = known.some((k) => k.length >= 6 && distance(name, k) <= (k.length >= 10 ? 2 : 1));
    if (PREFIXES.some((p) => name.startsWith(p)) || near) {
      problems.push(`${name}: not a variable of this service; did you mean ${nearest}? (unset ${name} if it is meant for something else)`);
    }
  }
  for (const name of NOT_YET_READ) {
    if (env[name] !== undefined && env[name]?.trim() !== "") notices.push(`${name}: not read by this version of the service yet; ignored`);
  }
  return { problems, notices };
}

const HG_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
// Phabricator's own rule (PhabricatorRepository::assertValidCallsign): upper-case letters only; the
// `/r<CALLSIGN><hash>` route could not tell a digit of a callsign from one of the hash.
const CALLSIGN = /^[A-Z]+$/;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const nonBlank = z.string().trim().min(1);

/** This host only: where a test, the demo or a local tunnel runs, and nothing crosses a network. */
export function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname === "[::1]";
}

/** A plain-text scheme would send the Pulse password or the Conduit token in clear: only to this host. */
const encryptedOrLoopback = (name: string, plain: string, secure: string) => ({
  check: (u: URL) => u.protocol !== plain || isLoopback(u),
  message: `${name}: ${plain}// would send credentials in clear; use ${secure}// (${plain}// is accepted for localhost only)`,
});

function httpUrl(name: string) {
  return z
    .string()
    .trim()
    .refine((v) => URL.canParse(v), { message: `${name}: not a URL; set it to e.g. https://example.org` })
    .transform((v) => new URL(v))
    .refine((u) => u.protocol === "https:" || u.protocol === "http:", {
      message: `${name}: must be an http(s) URL`,
    })
    .refine((u) => u.username === "" && u.password === "" && u.search === "" && u.hash === "", {
      message: `${name}: must be a plain base URL, with no credentials, query or fragment`,
    })
    .refine(encryptedOrLoopback(name, "http:", "https:").check, { message: encryptedOrLoopback(name, "http:", "https:").message })
    .transform((u) => u.href.replace(/\/+$/, ""));
}

function intInRange(name: string, min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `${name}: must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `${name}: must be a whole number from ${min} to ${max}` });
}

/** The items of a comma-separated variable, trimmed, empty ones dropped. */
function listItems(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A variable's value, or every problem with it (one line each). */
type Parsed<T> = { value: T; problems?: undefined } | { value?: undefined; problems: string[] };

function parsed<T>(value: T, problems: readonly string[]): Parsed<T> {
  return problems.length > 0 ? { problems: [...new Set(problems)] } : { value };
}

const NO_INPUT_HELP = "NO_INPUT_HOURS: hours without a push before a repository is no_input, e.g. 6, or per repository: 6,mozilla-central=48";

/** `6` or `6,mozilla-central=48`: a default and overrides by hg path, in whole hours from 1 to 720. */
function parseNoInputHours(value: string | undefined): Parsed<{ default: number; byRepository: Record<string, number> }> {
  const hours = (v: string) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 720 ? Number(v) * 3600_000 : undefined);
  const result = { default: 6 * 3600_000, byRepository: {} as Record<string, number> };
  const problems: string[] = [];
  for (const item of listItems(value ?? "")) {
    const [path, h] = item.includes("=") ? (item.split("=", 2) as [string, string]) : [undefined, item];
    const ms = hours(h.trim());
    if (ms === undefined || (path !== undefined && !HG_PATH.test(path.trim()))) problems.push(`${NO_INPUT_HELP} (got "${item}")`);
    else if (path === undefined) result.default = ms;
    else result.byRepository[path.trim()] = ms;
  }
  return parsed(result, problems);
}

const GIT_BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** `autoland=integration/autoland,beta=releases/mozilla-beta`: each Git branch and its hg repository. */
function parseGitBranches(value: string): Parsed<Array<{ branch: string; repository: string }>> {
  const branches: Array<{ branch: string; repository: string }> = [];
  const problems: string[] = [];
  for (const item of listItems(value)) {
    const [branch, repository, extra] = item.split("=").map((s) => s.trim());
    if (!branch || !repository || extra !== undefined || !GIT_BRANCH.test(branch) || !HG_PATH.test(repository)) {
      problems.push(`GIT_BRANCHES: "${item}" is not <git branch>=<hg path>; write e.g. autoland=integration/autoland,beta=releases/mozilla-beta`);
    } else if (branches.some((b) => b.branch === branch)) problems.push(`GIT_BRANCHES: branch "${branch}" is listed twice`);
    else branches.push({ branch, repository });
  }
  if (branches.length === 0 && problems.length === 0) {
    problems.push("GIT_BRANCHES: is empty; unset it, or list <git branch>=<hg path>, e.g. autoland=integration/autoland");
  }
  return parsed(branches, problems);
}

/** One `<hg path>=<CALLSIGN>[:git]` of REPOSITORIES, or what is wrong with it. */
function repositoryEntry(item: string): RepositoryEntry | string {
  const [path, mirror, extra] = item.split("=").map((s) => s.trim());
  const [callsign, vcs, more] = (mirror ?? "").split(":").map((s) => s.trim());
  if (vcs !== undefined && (vcs !== "git" || more !== undefined)) {
    return `REPOSITORIES: "${item}" ends in ":${mirror?.split(":").slice(1).join(":")}"; the only suffix is :git (check the pushes' Git commits), e.g. integration/autoland=FIREFOX:git`;
  }
  if (!path || !callsign || extra !== undefined) {
    return `REPOSITORIES: "${item}" is not <hg path>=<CALLSIGN>; write e.g. integration/autoland=MOZILLACENTRAL`;
  }
  if (!HG_PATH.test(path) || path.split("/").includes("..")) {
    return `REPOSITORIES: "${path}" is not an hg path below HG_URL; write it without slashes at either end, e.g. integration/autoland`;
  }
  if (!CALLSIGN.test(callsign)) {
    return `REPOSITORIES: callsign "${callsign}" must be upper-case letters only, e.g. MOZILLACENTRAL`;
  }
  return { path, callsign, ...(vcs === "git" ? { git: true } : {}) };
}

function parseRepositories(value: string): Parsed<RepositoryEntry[]> {
  const repositories: RepositoryEntry[] = [];
  const problems: string[] = [];
  for (const item of listItems(value)) {
    const entry = repositoryEntry(item);
    if (typeof entry === "string") problems.push(entry);
    else if (repositories.some((r) => r.path === entry.path)) problems.push(`REPOSITORIES: "${entry.path}" is listed twice; keep one entry per hg path`);
    else repositories.push(entry);
  }
  if (repositories.length === 0 && problems.length === 0) {
    problems.push("REPOSITORIES: is empty; list at least one <hg path>=<CALLSIGN>");
  }
  return parsed(repositories, problems);
}

// A bearer token is all that stands between the Internet and /metrics, /status and /: one short enough
// to guess is no protection (Heroku's `generator: secret` makes 64 hex characters). Two, `<new>,<old>`,
// let a rotation give the scrapers the new token before the old one stops working.
const TOKEN_ADVICE = "generate one with `openssl rand -hex 32`";

/** METRICS_TOKEN: one token, or `<new>,<old>` during a rotation; a message never repeats a token. */
function parseMetricsTokens(value: string | undefined): Parsed<string[]> {
  if (value === undefined) return { value: [] };
  const tokens = value.split(",").map((t) => t.trim());
  if (tokens.length > 2) {
    return { problems: [`METRICS_TOKEN: holds ${tokens.length} comma-separated values; give one token, or two during a rotation: <new>,<old>`] };
  }
  const which = tokens.length === 1 ? [""] : ["the first token (the new one) ", "the second token (the old one) "];
  const problems = tokens.flatMap((token, i) => (token.length >= 16 ? [] : [`METRICS_TOKEN: ${which[i]}must be at least 16 characters; ${TOKEN_ADVICE}`]));
  return parsed(tokens, problems);
}

/** The earlier Python service named one repository with three variables; they still work. */
function legacyRepository(env: Env, hgUrl: string | undefined): Parsed<RepositoryEntry[]> {
  const problem = (line: string) => ({ problems: [line] });
  const routingKey = env.PULSE_QUEUE_ROUTING_KEY?.trim();
  const source = env.SOURCE_REPOSITORY?.trim();
  const callsign = env.REPOSITORY_CALLSIGN?.trim();
  if (!routingKey && !source && !callsign) {
    return problem("REPOSITORIES: not set; set it to a comma-separated list of <hg path>=<CALLSIGN>, e.g. integration/autoland=MOZILLACENTRAL");
  }
  let path = routingKey;
  if (!path && source) {
    // SOURCE_REPOSITORY held the repository's URL, e.g. https://hg.mozilla.org/integration/autoland.
    path = hgUrl && source.startsWith(`${hgUrl}/`) ? source.slice(hgUrl.length + 1) : source;
  }
  const problems: string[] = [];
  if (!path) {
    problems.push("PULSE_QUEUE_ROUTING_KEY: not set; set REPOSITORIES instead, or PULSE_QUEUE_ROUTING_KEY to the hg path, e.g. integration/autoland");
  }
  if (!callsign) {
    problems.push("REPOSITORY_CALLSIGN: not set; set REPOSITORIES instead, or REPOSITORY_CALLSIGN to the Phabricator callsign, e.g. MOZILLACENTRAL");
  }
  if (!path || !callsign) return { problems };
  const entries = parseRepositories(`${path.replace(/\/+$/, "")}=${callsign}`);
  return entries.problems ? { problems: entries.problems.map((p) => p.replace(/^REPOSITORIES/, "PULSE_QUEUE_ROUTING_KEY")) } : entries;
}

/** Time between the next two runs of a cron expression (node-cron's own matcher), or undefined when it never runs twice. */
export function scheduleIntervalMs(expression: string): number | undefined {
  const task = cron.createTask(expression, () => undefined);
  try {
    const [first, second] = task.getNextRuns(2);
    return first && second ? second.getTime() - first.getTime() : undefined;
  } finally {
    void task.destroy();
  }
}

const schema = z.object({
  PULSE_URL: z
    .string()
    .trim()
    .default("amqps://pulse.mozilla.org:5671")
    .refine((v) => URL.canParse(v), { message: "PULSE_URL: not a URL; set it to e.g. amqps://pulse.mozilla.org:5671" })
    .transform((v) => new URL(v))
    .refine((u) => u.protocol === "amqps:" || u.protocol === "amqp:", {
      message: "PULSE_URL: must start with amqps:// (or amqp:// for a local broker)",
    })
    .refine((u) => u.username === "" && u.password === "", {
      message: "PULSE_URL: must not carry credentials; put them in PULSE_USERNAME and PULSE_PASSWORD",
    })
    .refine(encryptedOrLoopback("PULSE_URL", "amqp:", "amqps:").check, { message: encryptedOrLoopback("PULSE_URL", "amqp:", "amqps:").message }),
  PULSE_USERNAME: nonBlank.regex(/^[A-Za-z0-9._-]+$/, { message: "PULSE_USERNAME: must be a Pulse user name (letters, digits, . _ -)" }).optional(),
  PULSE_PASSWORD: z.string().min(1).optional(),
  PULSE_EXCHANGE: nonBlank.default("exchange/hgpushes/v2"),
  PULSE_QUEUE_NAME: nonBlank
    .regex(/^[A-Za-z0-9._/-]+$/, {
      message: "PULSE_QUEUE_NAME: use letters, digits and . _ / - only, e.g. phabricator-repo-monitor",
    })
    // The service prefixes queue/<user>/ itself: a full name would become queue/<user>/queue/<user>/<name>.
    .refine((v) => !v.startsWith("queue/"), {
      message:
        "PULSE_QUEUE_NAME: give only the name, e.g. phabricator-repo-monitor, not queue/<user>/<name>; the service makes it queue/<PULSE_USERNAME>/<PULSE_QUEUE_NAME>",
    })
    .optional(),
  HG_URL: httpUrl("HG_URL").default("https://hg.mozilla.org"),
  PHABRICATOR_URL: httpUrl("PHABRICATOR_URL").default("https://phabricator.services.mozilla.com"),
  PHABRICATOR_API_TOKEN: z.string().trim().regex(/^\S+$/, { message: "PHABRICATOR_API_TOKEN: must be a single word (a Conduit token, api-…)" }).optional(),
  CHECK_SCHEDULE: nonBlank.default("*/5 * * * *").refine((v) => cron.validate(v), {
    message: "CHECK_SCHEDULE: not a valid node-cron expression; use five fields (or six, seconds first), e.g. */5 * * * *",
  }),
  PORT: intInRange("PORT", 0, 65535).default(8080),
  // Read by parseMetricsTokens: one token, or two during a rotation.
  METRICS_TOKEN: z.string().optional(),
  CODE_REVIEW_TRY_REPOSITORY: nonBlank.refine((v) => HG_PATH.test(v), { message: "CODE_REVIEW_TRY_REPOSITORY: must be an hg path, e.g. try" }).optional(),
  QUEUE_DEPTH_QUEUES: z
    .string()
    .optional()
    .transform((v) => listItems(v ?? ""))
    .refine((qs) => qs.every((q) => /^queue\/[^/\s]+\/\S+$/.test(q)), {
      message: "QUEUE_DEPTH_QUEUES: each entry must be a full queue name, queue/<user>/<name>",
    }),
  LOG_LEVEL: z
    .string()
    .trim()
    .default("info")
    .refine((v) => LOG_LEVELS.includes(v), { message: `LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")}` }),
  UPSTREAM_TIMEOUT_SECONDS: intInRange("UPSTREAM_TIMEOUT_SECONDS", 1, 300).optional(),
  PHABRICATOR_HEAD_CONCURRENCY: intInRange("PHABRICATOR_HEAD_CONCURRENCY", 1, 64).default(24),
  MAX_MESSAGES_PER_CHECK: intInRange("MAX_MESSAGES_PER_CHECK", 1, 65535).default(10000),
  NO_INPUT_HOURS: z.string().optional(),
  STALLED_AFTER_CHECKS: intInRange("STALLED_AFTER_CHECKS", 2, 1000).default(6),
  STATSD_HOST: nonBlank.regex(/^[A-Za-z0-9.:_-]+$/, { message: "STATSD_HOST: must be a host name or address, e.g. localhost" }).optional(),
  STATSD_PORT: intInRange("STATSD_PORT", 1, 65535).default(8125),
  // A DSN is https://<public key>@<host>/<project id>; its key is not repeated in the message.
  LANDO_EXCHANGE: nonBlank.default("exchange/landoprod/pushes"),
  LANDO_ROUTING_KEYS: nonBlank
    .default("gitpushes.#")
    .transform(listItems)
    .refine((keys) => keys.length > 0 && keys.every((k) => /^[A-Za-z0-9_.#*-]+$/.test(k)), {
      message: "LANDO_ROUTING_KEYS: a comma-separated list of AMQP binding keys, e.g. gitpushes.#",
    }),
  // Lando's repo_url (git-hg-sync config-production.toml names the same).
  GIT_REPO_URL: httpUrl("GIT_REPO_URL").default("https://github.com/mozilla-firefox/firefox"),
  SENTRY_DSN: z
    .string()
    .trim()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && new URL(v).username !== "" && /\/\d+$/.test(new URL(v).pathname), {
      message: "SENTRY_DSN: not a Sentry DSN; copy it from the project's Client Keys page (https://<key>@<host>/<project id>)",
    })
    .optional(),
});

/**
 * Why the code-review pipeline metrics are off, or undefined when they are on. They need Try's pushes
 * and Conduit (diffs and build targets have no public page to HEAD).
 */
export function pipelineOffReason(config: Pick<Config, "codeReviewTryRepository" | "phabricatorApiToken">): string | undefined {
  if (!config.codeReviewTryRepository) return "CODE_REVIEW_TRY_REPOSITORY is not set";
  if (!config.phabricatorApiToken) return "PHABRICATOR_API_TOKEN is not set; diffs and Harbormaster build targets can only be read through Conduit";
  return undefined;
}

type Variables = z.infer<typeof schema>;
type NoInput = NonNullable<ReturnType<typeof parseNoInputHours>["value"]>;
type GitBranches = NonNullable<ReturnType<typeof parseGitBranches>["value"]>;

/**
 * Each variable on its own, so that one bad variable hides nothing about another: the schema's
 * problems (every one of each variable, one line each) and the names that are misspelt.
 */
function parseVariables(env: Env): { present: Env; value: Partial<Variables>; problems: string[]; notices: string[] } {
  // An empty variable counts as unset, as it does in most shells' .env habits.
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => (VARIABLES as readonly string[]).includes(k) && v !== undefined && v.trim() !== ""),
  );
  const names = variableNameProblems(env);
  const problems: string[] = [...names.problems];
  const value: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape) as Array<[string, z.ZodType]>) {
    const result = field.safeParse(present[name]);
    if (result.success) value[name] = result.data;
    for (const issue of result.error?.issues ?? []) problems.push(issue.message.startsWith(`${name}:`) ? issue.message : `${name}: ${issue.message}`);
  }
  if (!present.PULSE_USERNAME) problems.push("PULSE_USERNAME: not set; set it to your Pulse user (see https://pulseguardian.mozilla.org)");
  if (!present.PULSE_PASSWORD) problems.push("PULSE_PASSWORD: not set; set it to the password of the Pulse user");
  if (!present.PULSE_QUEUE_NAME) problems.push("PULSE_QUEUE_NAME: not set; pick a name for the durable queue, e.g. phabricator-repo-monitor");
  return { present, value, problems, notices: names.notices };
}

/**
 * What the variables mean together: the schedule's interval, and the problems of values that
 * disagree. Each pair is checked when both of its values are valid on their own.
 */
function crossCheck(value: Partial<Variables>, repositories: readonly RepositoryEntry[] | undefined, problems: string[]): number | undefined {
  const checkIntervalMs = value.CHECK_SCHEDULE === undefined ? undefined : scheduleIntervalMs(value.CHECK_SCHEDULE);
  if (value.CHECK_SCHEDULE !== undefined && checkIntervalMs === undefined) {
    problems.push("CHECK_SCHEDULE: never runs twice; use a repeating expression, e.g. */5 * * * *");
  } else if (checkIntervalMs !== undefined && value.UPSTREAM_TIMEOUT_SECONDS !== undefined && value.UPSTREAM_TIMEOUT_SECONDS * 1000 >= checkIntervalMs) {
    problems.push(
      `UPSTREAM_TIMEOUT_SECONDS: ${value.UPSTREAM_TIMEOUT_SECONDS} s is not shorter than the ${checkIntervalMs / 1000} s between checks; keep it well under the interval`,
    );
  }
  if (value.CODE_REVIEW_TRY_REPOSITORY && repositories?.some((r) => r.path === value.CODE_REVIEW_TRY_REPOSITORY)) {
    problems.push("CODE_REVIEW_TRY_REPOSITORY: is also in REPOSITORIES; Try is measured for the code-review pipeline, not mirrored");
  }
  return checkIntervalMs;
}

/** Reads and validates the configuration; throws ConfigError listing every problem of every variable. */
export function readConfig(env: Env): Config {
  const { present, value, problems, notices } = parseVariables(env);
  const repositories = present.REPOSITORIES ? parseRepositories(present.REPOSITORIES) : legacyRepository(present, value.HG_URL);
  const noInput = parseNoInputHours(present.NO_INPUT_HOURS);
  const gitBranches: Parsed<GitBranches | undefined> = present.GIT_BRANCHES === undefined ? { value: undefined } : parseGitBranches(present.GIT_BRANCHES);
  const metricsTokens = parseMetricsTokens(present.METRICS_TOKEN);
  for (const part of [repositories, noInput, gitBranches, metricsTokens]) problems.push(...(part.problems ?? []));
  for (const path of Object.keys(noInput.value?.byRepository ?? {})) {
    if (repositories.value && !repositories.value.some((r) => r.path === path)) problems.push(`NO_INPUT_HOURS: ${path} is not in REPOSITORIES`);
  }
  if (present.STATSD_PORT && !present.STATSD_HOST)
    problems.push("STATSD_PORT: set without STATSD_HOST; set STATSD_HOST too (the agent's host), or unset STATSD_PORT");
  const checkIntervalMs = crossCheck(value, repositories.value, problems);
  const all = schema.safeParse(present);
  if (
    problems.length > 0 ||
    !all.success ||
    repositories.problems ||
    noInput.problems ||
    gitBranches.problems ||
    metricsTokens.problems ||
    checkIntervalMs === undefined
  ) {
    throw new ConfigError([...new Set(problems)]);
  }
  return assembleConfig(all.data, {
    repositories: repositories.value,
    noInput: noInput.value,
    gitBranches: gitBranches.value,
    metricsTokens: metricsTokens.value,
    checkIntervalMs,
    notices,
  });
}

/** The Config of variables that were each valid and agree. */
function assembleConfig(
  value: Variables,
  parts: {
    repositories: RepositoryEntry[];
    noInput: NoInput;
    gitBranches: GitBranches | undefined;
    metricsTokens: string[];
    checkIntervalMs: number;
    notices: string[];
  },
): Config {
  const { repositories, noInput, gitBranches, checkIntervalMs } = parts;
  const username = value.PULSE_USERNAME as string;
  const queueName = value.PULSE_QUEUE_NAME as string;
  return {
    pulse: {
      url: value.PULSE_URL,
      username,
      password: value.PULSE_PASSWORD as string,
      exchange: value.PULSE_EXCHANGE,
      queueName,
      queue: `queue/${username}/${queueName}`,
      tryQueue: `queue/${username}/${queueName}/try`,
      rejectedQueue: `queue/${username}/${queueName}/rejected`,
      rejectedExchange: `exchange/${username}/${queueName}/rejected`,
    },
    // A token reaches Phabricator through Conduit; without one, only its pages can be asked.
    repositories: repositories.map(({ path, callsign, git }) => ({
      path,
      mirror: { kind: value.PHABRICATOR_API_TOKEN ? "phabricator-conduit" : "phabricator-page", callsign, ...(git ? { vcs: "git" as const } : {}) },
    })),
    hgUrl: value.HG_URL,
    phabricatorUrl: value.PHABRICATOR_URL,
    phabricatorApiToken: value.PHABRICATOR_API_TOKEN,
    checkSchedule: value.CHECK_SCHEDULE,
    checkIntervalMs,
    port: value.PORT,
    metricsTokens: parts.metricsTokens,
    codeReviewTryRepository: value.CODE_REVIEW_TRY_REPOSITORY,
    queueDepthQueues: value.QUEUE_DEPTH_QUEUES,
    logLevel: value.LOG_LEVEL,
    // Unset: 30 s, or a quarter of the interval for schedules faster than two minutes.
    upstreamTimeoutMs: value.UPSTREAM_TIMEOUT_SECONDS !== undefined ? value.UPSTREAM_TIMEOUT_SECONDS * 1000 : Math.min(30_000, checkIntervalMs / 4),
    phabricatorHeadConcurrency: value.PHABRICATOR_HEAD_CONCURRENCY,
    maxMessagesPerCheck: value.MAX_MESSAGES_PER_CHECK,
    noInputAfterMs: noInput,
    stalledAfterChecks: value.STALLED_AFTER_CHECKS,
    statsd: value.STATSD_HOST === undefined ? undefined : { host: value.STATSD_HOST, port: value.STATSD_PORT },
    sentryDsn: value.SENTRY_DSN,
    gitSync:
      gitBranches === undefined
        ? undefined
        : {
            branches: gitBranches,
            exchange: value.LANDO_EXCHANGE,
            routingKeys: value.LANDO_ROUTING_KEYS,
            queue: `queue/${username}/${queueName}/git`,
            repoUrl: value.GIT_REPO_URL,
          },
    notices: parts.notices,
  };
}
