// One HTTP client per upstream (hg.mozilla.org, Phabricator): keep-alive, per-request timeouts well
// under the check interval, bounded retries with backoff (undici's retry interceptor), and a
// duration/failure observation for every logical request. Requests only ever go to the configured
// base URL: callers pass a path, never a URL.
import { Agent, interceptors, type Dispatcher } from "undici";
import { scrubSecrets } from "../core/scrub.ts";

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
  /** Every secret the process holds, scrubbed from each error this client makes. */
  secrets?: readonly string[];
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
  /** The media type of the answer (`application/json`), lower case and without parameters; undefined when it names none. */
  contentType: string | undefined;
  text: string;
  /** The `location` header of a redirect (redirects are answers here, never followed). */
  location: string | undefined;
  /** "host METHOD path": what every error about this answer starts with. */
  what: string;
}

/**
 * Bodies beyond this are not a pushlog slice, a Conduit page or a commit page. Cut by undici as the
 * bytes arrive (maxResponseSize), whatever `content-length` says or whether it says anything: a
 * chunked answer is bounded too.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The body as JSON. An answer that is not JSON (hgweb's plain-text 500 of an uncaught exception, a 404
 * HTML page, a proxy's error page, a login form) is one line naming the request, its status and its
 * content type, never a parse error.
 */
export function jsonOf(service: Service, response: UpstreamResponse): unknown {
  try {
    return JSON.parse(response.text);
  } catch {
    throw new UpstreamError(service, `${response.what}: HTTP ${response.status}, ${describeBody(response)}, not JSON`, response.status);
  }
}

/** "content type text/html, 1234 bytes", for the error lines. */
export function describeBody(response: Pick<UpstreamResponse, "contentType" | "text">): string {
  return `${response.contentType === undefined ? "no content type" : `content type ${response.contentType}`}, ${Buffer.byteLength(response.text)} bytes`;
}

function mediaType(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const type = value?.split(";")[0]?.trim().toLowerCase();
  return type === undefined || type === "" ? undefined : type;
}

export interface Upstream {
  readonly service: Service;
  readonly baseUrl: string;
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** How often and how long a request is tried. */
interface RetryPolicy {
  maxRetries: number;
  minTimeout: number;
  /** The longest wait between attempts, a Retry-After included. */
  maxRetryWait: number;
  /** When the whole request, every attempt and wait included, is cut. */
  deadlineMs: number;
}

function retryPolicy(options: UpstreamOptions): RetryPolicy {
  const maxRetries = options.maxRetries ?? 2;
  const minTimeout = options.minRetryDelayMs ?? 250;
  // headersTimeout and bodyTimeout bound each wait for bytes, so a body that drips a byte at a time
  // would go on for ever: the whole request ends by this deadline. It leaves room for every attempt to
  // time out (undici checks timeouts of a second or more on a half-second tick, so one may fire up to a
  // second late) and for the waits between attempts (at most maxRetryWait each), so it only cuts a drip.
  const maxRetryWait = Math.max(4 * minTimeout, options.timeoutMs);
  const deadlineMs = (maxRetries + 1) * (options.timeoutMs + 1000) + maxRetries * maxRetryWait;
  return { maxRetries, minTimeout, maxRetryWait, deadlineMs };
}

/** The keep-alive pool with its timeouts and size bound, behind undici's retry interceptor. */
function createAgent(options: UpstreamOptions, policy: RetryPolicy): Dispatcher {
  const { service, timeoutMs } = options;
  const { maxRetries, minTimeout, maxRetryWait } = policy;
  return new Agent({
    connections: options.connections ?? 32,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // Cut as the bytes arrive, so a chunked answer (no content-length) is bounded too.
    maxResponseSize: MAX_BODY_BYTES,
    connectTimeout: Math.min(timeoutMs, 10_000),
    keepAliveTimeout: 10_000,
  }).compose(
    observeAttempts((status) => options.onRetryableStatus?.(service, status)),
    interceptors.retry({
      maxRetries,
      minTimeout,
      // Caps the back-off and, with it, a Retry-After (429/503): capped at the request's own time budget,
      // so a throttled request is asked again when the server said, not after a second regardless.
      maxTimeout: maxRetryWait,
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
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const { service } = options;
  const base = new URL(`${options.baseUrl}/`);
  const policy = retryPolicy(options);
  const agent = createAgent(options, policy);
  const secrets = options.secrets ?? [];
  /** Every error this client makes goes through here: whatever it quotes, no secret leaves in it. */
  const failure: Failure = (message, status, cause) =>
    new UpstreamError(service, scrubSecrets(message, secrets), status, cause === undefined ? undefined : { cause });

  const target = (path: string) => targetUrl(base, path, failure);
  const cutShort = (what: string, error: unknown, stop: RequestStop, status?: number) => cutShortError({ what, error, stop, status }, policy, failure);

  async function send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const url = target(req.path);
    // The host first: an operator reading "ECONNREFUSED" must know which upstream (and which HG_URL or PHABRICATOR_URL) it was.
    const what = `${url.host} ${req.method} ${url.pathname}`;
    const stop = requestStop(req.signal, policy.deadlineMs);
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: stop.signal,
        });
      } catch (error) {
        throw cutShort(what, error, stop);
      }
      const contentType = mediaType(res.headers["content-type"]);
      const location = typeof res.headers.location === "string" ? res.headers.location : undefined;
      const accepted = (req.accept ?? [200]).includes(res.statusCode);
      const declared = req.method === "HEAD" ? 0 : Number(res.headers["content-length"] ?? 0);
      if (!accepted || req.method === "HEAD" || declared > MAX_BODY_BYTES) {
        // Not read, so not buffered: a refused answer is refused before its body arrives.
        await res.body.dump().catch(() => undefined);
        if (!accepted) throw failure(`${what}: HTTP ${res.statusCode}`, res.statusCode);
        if (declared > MAX_BODY_BYTES) throw failure(`${what}: a ${declared}-byte body is larger than ${MAX_BODY_BYTES} bytes`, res.statusCode);
        return { status: res.statusCode, contentType, text: "", location, what };
      }
      try {
        return { status: res.statusCode, contentType, text: await res.body.text(), location, what };
      } catch (error) {
        throw cutShort(what, error, stop, res.statusCode);
      }
    } finally {
      stop.release();
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

type Failure = (message: string, status?: number, cause?: unknown) => UpstreamError;

/** The URL of a path below the base URL; anything else is refused before a byte is sent. */
function targetUrl(base: URL, path: string, failure: Failure): URL {
  if (!path.startsWith("/") || path.startsWith("//")) throw failure(`refused a request to a path that is not below ${base.origin}`);
  const url = new URL(`${base.pathname.replace(/\/$/, "")}${path}`, base.origin);
  if (url.origin !== base.origin) throw failure(`refused a request outside ${base.origin}`);
  return url;
}

/** Why a request or its body ended early, in the words an operator needs. */
function cutShortError(
  how: { what: string; error: unknown; stop: RequestStop; status: number | undefined },
  policy: RetryPolicy,
  failure: Failure,
): UpstreamError {
  const { what, error, stop, status } = how;
  const { maxRetries, deadlineMs } = policy;
  const err = error as Error & { code?: string; statusCode?: number };
  if (stop.stopped()) return failure(`${what}: stopped`, status, error);
  if (stop.timedOut()) return failure(`${what}: no whole answer within ${deadlineMs / 1000} s`, status, error);
  if (err.code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") return failure(`${what}: the body is larger than ${MAX_BODY_BYTES} bytes`, status, error);
  if (status !== undefined) return failure(`${what}: the body did not arrive whole (${err.code ?? err.name})`, status, error);
  const detail = err.statusCode ? `HTTP ${err.statusCode}` : (err.code ?? err.name);
  return failure(`${what}: ${detail} after ${maxRetries + 1} attempt${maxRetries === 0 ? "" : "s"}`, err.statusCode, error);
}

/** What ends one request early: the caller's signal (the service stopping) or the request's own deadline. */
interface RequestStop {
  signal: AbortSignal;
  stopped(): boolean;
  timedOut(): boolean;
  /** Clears the timer and the listener on the caller's signal, which lives as long as the service. */
  release(): void;
}

function requestStop(caller: AbortSignal | undefined, deadlineMs: number): RequestStop {
  const controller = new AbortController();
  let timedOut = false;
  const onStop = () => controller.abort(caller?.reason);
  if (caller?.aborted) onStop();
  else caller?.addEventListener("abort", onStop, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("deadline"));
  }, deadlineMs);
  return {
    signal: controller.signal,
    stopped: () => caller?.aborted === true,
    timedOut: () => timedOut,
    release() {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onStop);
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
