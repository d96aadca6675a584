// The HTTP face of the service (the endpoints of docs/http.md): a node:http server and an ordered list of
// small handlers, each answering the paths it owns.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Registry } from "prom-client";
import type { VersionInfo } from "../app/version.ts";
import type { StatusDocument } from "../app/status-document.ts";
import { renderStatusPage } from "./status-page.ts";

export interface HealthReport {
  healthy: boolean;
  /** Without credentials: a status word and one boolean per check, nothing an attacker could use. */
  summary: { status: "ok" | "error"; checks: Record<string, boolean> };
  /** With the metrics token: everything, hosts, queues and errors included. */
  body: Record<string, unknown>;
}

export interface ServerDeps {
  registry: Registry;
  /** METRICS_TOKEN's tokens: one, or the new and the old during a rotation; empty, the paths are public. */
  metricsTokens: readonly string[];
  health: () => HealthReport;
  version: VersionInfo;
  /** The status document of /status and /, as of now. */
  status: () => StatusDocument;
  onError?: (error: Error) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> | boolean;

/**
 * Every answer: no caching, and no guessing of its type by a browser (X-Content-Type-Options), which
 * could otherwise run an answer as something it is not.
 */
function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}

/** The status page loads nothing, runs nothing and is framed by nobody: its styles are inline, and that is all it may have. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json", `${JSON.stringify(body)}\n`);
}

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function sameSecret(given: string, token: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? "");
  return match?.[1] !== undefined && sameSecret(match[1], token);
}

/**
 * The token as the password of HTTP Basic auth (RFC 7617), any user name: what a browser can be asked
 * for, since it cannot send a bearer token by itself.
 */
export function basicMatches(header: string | undefined, token: string): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? "");
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && sameSecret(decoded.slice(colon + 1), token);
}

/**
 * Whether an Authorization header carries one of the tokens, as a bearer token or a Basic password.
 * Every token is compared, so the time taken does not say which one matched either.
 */
export function tokenAccepted(header: string | undefined, tokens: readonly string[]): boolean {
  const matches = tokens.map((token) => bearerMatches(header, token) || basicMatches(header, token));
  return matches.includes(true);
}

const authorized = (req: IncomingMessage, tokens: readonly string[]): boolean => tokens.length === 0 || tokenAccepted(req.headers.authorization, tokens);

export function metricsHandler(deps: Pick<ServerDeps, "registry" | "metricsTokens" | "onError">): Handler {
  return async (req, res, path) => {
    if (path !== "/metrics") return false;
    if (!authorized(req, deps.metricsTokens)) {
      send(res, 401, "text/plain", "a bearer token is required\n", { "www-authenticate": 'Bearer realm="metrics"' });
      return true;
    }
    try {
      send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    } catch (error) {
      deps.onError?.(error as Error);
      send(res, 500, "text/plain", "metrics collection failed\n");
    }
    return true;
  };
}

export function heartbeatHandlers(deps: Pick<ServerDeps, "health" | "version" | "metricsTokens">): Handler {
  return (req, res, path) => {
    switch (path) {
      case "/__lbheartbeat__":
        json(res, 200, { status: "ok" });
        return true;
      case "/__heartbeat__": {
        const report = deps.health();
        // The details only to whoever holds the metrics token; with none configured, to nobody.
        const detailed = tokenAccepted(req.headers.authorization, deps.metricsTokens);
        json(res, report.healthy ? 200 : 503, detailed ? report.body : report.summary);
        return true;
      }
      case "/__version__":
        json(res, 200, deps.version);
        return true;
      default:
        return false;
    }
  };
}

/**
 * `/status` (JSON) and `/` (the same facts as a page), protected like /metrics; a browser is asked
 * for the token as a Basic-auth password.
 */
export function statusHandlers(deps: Pick<ServerDeps, "status" | "metricsTokens">): Handler {
  return (req, res, path) => {
    if (path !== "/status" && path !== "/") return false;
    if (!authorized(req, deps.metricsTokens)) {
      send(res, 401, "text/plain", "the metrics token is required (as a bearer token, or as the password of Basic auth)\n", {
        "www-authenticate": 'Basic realm="phabricator-repo-monitor", charset="UTF-8"',
      });
      return true;
    }
    const doc = deps.status();
    if (path === "/status") json(res, 200, doc);
    else send(res, 200, "text/html; charset=utf-8", renderStatusPage(doc), { "content-security-policy": PAGE_POLICY });
    return true;
  };
}

/**
 * Connection limits, on purpose: a scrape or a heartbeat is a few hundred bytes of request, so a
 * client that has not sent its headers within 5 s, or holds an idle keep-alive connection for 5 s, is
 * dropped; Node checks these every second (its default is 30 s, and its default header timeout 60 s,
 * which let 250 idle clients hold 250 file descriptors for a minute). Past 512 open connections new
 * ones are refused at once, which bounds the descriptors whatever clients do.
 */
export const HTTP_LIMITS = { headersTimeoutMs: 5000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5000, checkIntervalMs: 1000, maxConnections: 512 };

export function createHttpServer(deps: ServerDeps): Server {
  const handlers: Handler[] = [metricsHandler(deps), heartbeatHandlers(deps), statusHandlers(deps)];
  const server = createServer(
    {
      connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    },
    (req, res) => {
      void (async () => {
        if (req.method !== "GET" && req.method !== "HEAD") {
          send(res, 405, "text/plain", "method not allowed\n", { allow: "GET, HEAD" });
          return;
        }
        // A request target Node cannot read as a path (`//[`, `//x:99999/`) is the client's error: a
        // 400, not a 500 with an error log and a Sentry event for every such request.
        const path = URL.parse(req.url ?? "/", "http://localhost")?.pathname;
        if (path === undefined) {
          send(res, 400, "text/plain", "bad request\n");
          return;
        }
        for (const handler of handlers) {
          if (await handler(req, res, path)) return;
        }
        send(res, 404, "text/plain", "not found\n");
      })().catch((error: unknown) => {
        deps.onError?.(error as Error);
        if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
        else res.destroy();
      });
    },
  );
  server.maxConnections = HTTP_LIMITS.maxConnections;
  return server;
}
