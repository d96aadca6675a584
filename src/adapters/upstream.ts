// One HTTP client per upstream (hg.mozilla.org, Phabricator): keep-alive, per-request timeouts well
// under the check interval, bounded retries with backoff (undici's retry interceptor), and a
// duration/failure observation for every logical request. Requests only ever go to the configured
// base URL: callers pass a path, never a URL.
import type { Dispatcher } from "undici";
// The three parts of undici this client uses, by their files: undici's index also builds fetch,
// WebSocket, the cache stores and the mock agents, and loading it was 70 ms of the service's 220 ms
// start (CPU profile of `report-lag --version`; these three: 20 ms). undici declares no "exports", so
// the files are reachable; their layout is undici's, hence the exact version pin in package.json.
import Agent from "undici/lib/dispatcher/agent.js";
import retry from "undici/lib/interceptor/retry.js";
import request from "undici/lib/api/api-request.js";

export type Service = "hgmo" | "phabricator";

export class UpstreamError extends Error {
  readonly service: Service;
  readonly status: number | undefined;
  constructor(service: Service, message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "UpstreamError";
    this.service = service;
    this.status = status;
  }
}

export interface UpstreamOptions {
  service: Service;
  baseUrl: string;
  timeoutMs: number;
  /** Retries after the first attempt, on connection errors, timeouts and 429/5xx. */
  maxRetries?: number;
  minRetryDelayMs?: number;
  connections?: number;
  observe?: (service: Service, seconds: number, failed: boolean) => void;
  /** Each attempt answered with a status the retry interceptor retries (429, 5xx): throttling and proxy errors. */
  onRetryableStatus?: (service: Service, status: number) => void;
}

const RETRIED_STATUSES = [429, 500, 502, 503, 504];

/**
 * An interceptor placed inside the retry interceptor, so that it sees every attempt: it reports the
 * attempts answered with a status that will be retried, which undici's retry interceptor does not
 * expose. It only observes; the handler is passed on unchanged otherwise.
 */
function observeAttempts(report: (status: number) => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(
      opts,
      new Proxy(handler, {
        get(target, property, receiver) {
          if (property === "onResponseStart" && typeof target.onResponseStart === "function") {
            return (...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseStart"]>>) => {
              if (RETRIED_STATUSES.includes(args[1])) report(args[1]);
              return target.onResponseStart?.(...args);
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    );
}

export interface UpstreamRequest {
  method: "GET" | "HEAD" | "POST";
  /** Path and query below the base URL, starting with `/`. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
  /** Status codes that are an answer, not a failure; 200 alone when unset. */
  accept?: readonly number[];
}

export interface UpstreamResponse {
  status: number;
  text: string;
}

/** Bodies beyond this are not a pushlog slice or a Conduit page; refuse them rather than buffer them. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface Upstream {
  readonly service: Service;
  readonly baseUrl: string;
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const { service, timeoutMs } = options;
  const base = new URL(`${options.baseUrl}/`);
  const maxRetries = options.maxRetries ?? 2;
  const minTimeout = options.minRetryDelayMs ?? 250;
  const agent: Dispatcher = new Agent({
    connections: options.connections ?? 32,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, 10_000),
    keepAliveTimeout: 10_000,
  }).compose(
    observeAttempts((status) => options.onRetryableStatus?.(service, status)),
    retry({
      maxRetries,
      minTimeout,
      // Caps the back-off and, with it, a Retry-After (429/503): capped at the request's own time budget,
      // so a throttled request is asked again when the server said, not after a second regardless.
      maxTimeout: Math.max(4 * minTimeout, timeoutMs),
      timeoutFactor: 2,
      // Conduit's *.search methods only read, so a POST to them is as safe to repeat as a GET.
      methods: ["GET", "HEAD", "POST"],
      statusCodes: RETRIED_STATUSES,
      errorCodes: [
        "ECONNRESET",
        "ECONNREFUSED",
        "ENOTFOUND",
        "ENETDOWN",
        "ENETUNREACH",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "EPIPE",
        "UND_ERR_SOCKET",
        "UND_ERR_HEADERS_TIMEOUT",
        "UND_ERR_CONNECT_TIMEOUT",
      ],
    }),
  );

  async function send(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (!req.path.startsWith("/") || req.path.startsWith("//")) {
      throw new UpstreamError(service, `refused a request to a path that is not below ${base.origin}`);
    }
    const url = new URL(`${base.pathname.replace(/\/$/, "")}${req.path}`, base.origin);
    if (url.origin !== base.origin) {
      throw new UpstreamError(service, `refused a request outside ${base.origin}`);
    }
    // The host first: an operator reading "ECONNREFUSED" must know which upstream (and which HG_URL or PHABRICATOR_URL) it was.
    const what = `${url.host} ${req.method} ${url.pathname}`;
    // Each attempt is bounded by headersTimeout/bodyTimeout and the attempts by maxRetries, so the
    // caller's signal (the service stopping) is the only other bound a request needs.
    let res: Dispatcher.ResponseData;
    try {
      res = await request.call(agent, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: req.signal,
      });
    } catch (error) {
      const err = error as Error & { code?: string; statusCode?: number };
      if (req.signal?.aborted) throw new UpstreamError(service, `${what}: stopped`, undefined, { cause: error });
      const detail = err.statusCode ? `HTTP ${err.statusCode}` : (err.code ?? err.name);
      throw new UpstreamError(service, `${what}: ${detail} after ${maxRetries + 1} attempts`, err.statusCode, { cause: error });
    }
    const accepted = req.accept ?? [200];
    if (!accepted.includes(res.statusCode)) {
      await res.body.dump().catch(() => undefined);
      throw new UpstreamError(service, `${what}: HTTP ${res.statusCode}`, res.statusCode);
    }
    if (req.method === "HEAD") {
      await res.body.dump().catch(() => undefined);
      return { status: res.statusCode, text: "" };
    }
    const declared = Number(res.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      res.body.destroy();
      throw new UpstreamError(service, `${what}: a ${declared}-byte body is larger than expected`, res.statusCode);
    }
    try {
      return { status: res.statusCode, text: await res.body.text() };
    } catch (error) {
      throw new UpstreamError(
        service,
        `${what}: the body did not arrive whole (${(error as Error & { code?: string }).code ?? (error as Error).name})`,
        res.statusCode,
        { cause: error },
      );
    }
  }

  return {
    service,
    baseUrl: options.baseUrl,
    async request(req) {
      const started = performance.now();
      try {
        const response = await send(req);
        options.observe?.(service, (performance.now() - started) / 1000, false);
        return response;
      } catch (error) {
        options.observe?.(service, (performance.now() - started) / 1000, !req.signal?.aborted);
        throw error;
      }
    },
    async close() {
      await agent.close();
    },
  };
}

/** Runs `fn` over `items` with at most `limit` running at once; results keep the input order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    // After the first failure the others finish what they hold but take nothing new.
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
