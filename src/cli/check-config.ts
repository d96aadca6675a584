// `report-lag --check-config` (the Heroku release phase): the configuration read, then what only the
// upstreams can say: whether Pulse accepts the login and whether Phabricator knows each callsign.
// On a problem, only the problems are said, every one, one line each naming the variable (exit 2);
// what was found is said only when everything is right. An upstream that does not answer is said,
// and is not a configuration error: a release must not fail because Pulse or Phabricator is down.
import { setTimeout as sleep } from "node:timers/promises";
import { pipelineOffReason, secretsOf, type Config } from "../config/config.ts";
import { createUpstream, type Upstream } from "../upstream/upstream.ts";
import {
  AnonymousAccessError,
  RefusedTokenError,
  createConduitClient,
  pageMirror,
  resolveRepositories,
  type ConduitClient,
} from "../phabricator/phabricator.ts";
import { UnknownRepositoryError, mirrorName } from "../mirror/mirror.ts";
import { PulseConnectError, connectPulse } from "../pulse/connect.ts";
import type { Io } from "./io.ts";

/** What one upstream said of the configuration. */
export interface Findings {
  /** Configuration errors, each naming its variable. */
  problems: string[];
  /** What was found, said when there is no problem anywhere. */
  found: string[];
  /** Why the check could not be made (the upstream did not answer); said in any case. */
  unchecked?: string;
}

/**
 * What `--check-config` prints, and its exit code: with a problem anywhere, every problem (stderr)
 * and nothing that could read as valid; else what was found and the summary (stdout). What could
 * not be checked is said either way.
 */
export function verdict(findings: readonly Findings[], summaryLines: readonly string[]): { out: string[]; err: string[]; code: 0 | 2 } {
  const unchecked = findings.flatMap((f) => (f.unchecked === undefined ? [] : [f.unchecked]));
  const problems = findings.flatMap((f) => f.problems);
  if (problems.length > 0) return { out: unchecked, err: problems.map((p) => `configuration error: ${p}`), code: 2 };
  return { out: [...unchecked, ...findings.flatMap((f) => f.found), ...summaryLines], err: [], code: 0 };
}

/**
 * Logs in to Pulse as the service does (same URL, TLS and virtual host), declares nothing and closes.
 * A refused login or virtual host is a configuration error; a broker that does not answer within
 * UPSTREAM_TIMEOUT_SECONDS is said, as Phabricator's silence is.
 */
export async function checkPulseLogin(config: Config): Promise<Findings> {
  const { url, username, password } = config.pulse;
  try {
    const model = await connectPulse({ url, username, password, connectTimeoutMs: config.upstreamTimeoutMs, secrets: secretsOf(config) });
    // A close the broker fails to confirm changes nothing: the login was accepted. Bounded, as the login is.
    model.on("error", () => undefined);
    await Promise.race([model.close().catch(() => undefined), sleep(config.upstreamTimeoutMs, undefined, { ref: false })]);
    return { problems: [], found: [`pulse: ${url.host} accepted the login of user "${username}"`] };
  } catch (error) {
    if (error instanceof PulseConnectError && error.refused !== undefined) {
      return { problems: [`${error.refused === "login" ? "PULSE_PASSWORD" : "PULSE_URL"}: ${error.message}`], found: [] };
    }
    return { problems: [], found: [], unchecked: `pulse login: not checked, Pulse did not answer (${(error as Error).message})` };
  }
}

/**
 * Asks Phabricator whether each callsign of REPOSITORIES is a repository it will answer for: through
 * Conduit with a token, through the repository pages without one. A callsign it does not know, a
 * refused token, or pages that are the login form (a token is needed) are configuration errors.
 */
export async function checkCallsigns(config: Config): Promise<Findings> {
  const callsigns = [...new Set(config.repositories.map((r) => r.mirror.callsign))];
  const phabricator = createUpstream({
    service: "phabricator",
    baseUrl: config.phabricatorUrl,
    timeoutMs: config.upstreamTimeoutMs,
    observe: () => undefined,
    connections: 1,
    secrets: secretsOf(config),
  });
  try {
    const token = config.phabricatorApiToken;
    const { found, missing } = token
      ? await callsignsByConduit(createConduitClient(phabricator, token, secretsOf(config)), callsigns)
      : await callsignsByPages(phabricator, callsigns);
    return { problems: missing.map((callsign) => `REPOSITORIES: Phabricator has no repository with the callsign ${callsign}`), found };
  } catch (error) {
    if (error instanceof RefusedTokenError || error instanceof AnonymousAccessError) return { problems: [error.message], found: [] };
    return { problems: [], found: [], unchecked: `callsigns: not checked, Phabricator did not answer (${(error as Error).message})` };
  } finally {
    await phabricator.close();
  }
}

type Callsigns = Promise<{ found: string[]; missing: string[] }>;

/** Each callsign's repository PHID, and the callsigns Phabricator does not know. */
async function callsignsByConduit(conduit: ConduitClient, callsigns: readonly string[]): Callsigns {
  const phids = await resolveRepositories(conduit, callsigns);
  return {
    found: [...phids].map(([callsign, phid]) => `callsign ${callsign}: repository ${phid}`),
    missing: callsigns.filter((c) => !phids.has(c)),
  };
}

/** Each callsign's repository page, read as an anonymous visitor, and the callsigns Phabricator does not know. */
async function callsignsByPages(phabricator: Upstream, callsigns: readonly string[]): Callsigns {
  const found: string[] = [];
  const missing: string[] = [];
  for (const callsign of callsigns) {
    try {
      await pageMirror(phabricator, callsign, 1).exists();
      found.push(`callsign ${callsign}: its repository page is readable without a token`);
    } catch (error) {
      if (!(error instanceof UnknownRepositoryError)) throw error;
      missing.push(callsign);
    }
  }
  return { found, missing };
}

/** What the configuration amounts to, said last and only when nothing is wrong. */
function summary(config: Config): string[] {
  const repos = config.repositories.map((r) => `${r.path}=${mirrorName(r.mirror)}${r.mirror.vcs === "git" ? ":git" : ""}`).join(", ");
  const off = pipelineOffReason(config);
  return [
    off === undefined
      ? `code-review pipeline metrics: on (Try repository ${config.codeReviewTryRepository}, queue ${config.pulse.tryQueue})`
      : `code-review pipeline metrics: off (${off})`,
    `configuration is valid: queue ${config.pulse.queue} on ${config.pulse.url.host}, repositories ${repos}`,
  ];
}

/** `--check-config` once the variables are valid: Pulse and Phabricator asked together; 0 or 2. */
export async function checkConfig(config: Config, io: Io): Promise<number> {
  const { out, err, code } = verdict(await Promise.all([checkPulseLogin(config), checkCallsigns(config)]), summary(config));
  for (const line of out) io.stdout(`${line}\n`);
  for (const line of err) io.stderr(`${line}\n`);
  return code;
}
