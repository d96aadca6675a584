// Opening the AMQP connection to Pulse: the one way the service, `--once`, display-lag and
// `--check-config` log in, so that all of them use the same URL, TLS, virtual host and handshake bound.
import { isIP } from "node:net";
import { connect, type ChannelModel } from "amqplib";
import { connectFailureMessage, refusalOf, type Refusal } from "./pulse-errors.ts";
import { scrubSecrets } from "../core/scrub.ts";

export class PulseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PulseError";
  }
}

/** No connection: the message names the variable to look at, and `refused` says whether the broker itself said no. */
export class PulseConnectError extends PulseError {
  /** The broker answered and refused the login or the virtual host; undefined when it could not be reached or spoke no AMQP. */
  readonly refused: Refusal | undefined;
  constructor(message: string, refused: Refusal | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = "PulseConnectError";
    this.refused = refused;
  }
}

export interface ConnectOptions {
  url: URL;
  username: string;
  password: string;
  heartbeatSeconds?: number;
  /** Bound on connecting, TLS and the AMQP handshake together. */
  connectTimeoutMs?: number;
  /** Scrubbed from whatever the broker's words put in the error; the password always is. */
  secrets?: readonly (string | undefined)[];
}

/** The virtual host PULSE_URL names by its path; none means `/`. */
export function vhostOf(url: URL): string {
  return url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : "/";
}

/** One attempt at an open AMQP connection; throws a PulseConnectError that says what to check. */
export async function connectPulse(options: ConnectOptions): Promise<ChannelModel> {
  const { url, username, password } = options;
  const tls = url.protocol === "amqps:";
  const timeoutMs = options.connectTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    // amqplib's socket timeout does not cover the handshake: a peer that accepts the connection and
    // then says nothing would hold the check forever.
    const attempt = connect(
      {
        protocol: tls ? "amqps" : "amqp",
        hostname: url.hostname,
        port: url.port ? Number(url.port) : tls ? 5671 : 5672,
        username,
        password,
        vhost: vhostOf(url),
        // Both ends send a heartbeat every 10 s and give up on a peer after two silent ones, so a
        // black-holed network (no FIN, no RST) is noticed in about 20-30 s, not the 60-90 s of 30 s.
        heartbeat: options.heartbeatSeconds ?? 10,
      },
      // Node verifies the broker's certificate by default; servername makes SNI match the host.
      // SNI carries names only (RFC 6066): for an address, Node checks the certificate against it.
      tls && isIP(url.hostname) === 0 ? { servername: url.hostname, timeout: timeoutMs } : { timeout: timeoutMs },
    );
    return await Promise.race([
      attempt,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          // Should the handshake finish after all, that connection is closed, not leaked, and an
          // error it emits meanwhile is not an unhandled 'error' event.
          attempt
            .then((late) => {
              late.on("error", () => undefined);
              return late.close();
            })
            .catch(() => undefined);
          reject(new Error(`no AMQP handshake within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      }),
    ]);
  } catch (error) {
    const message = connectFailureMessage(error, { host: url.host, tls, username, vhost: vhostOf(url) });
    throw new PulseConnectError(scrubSecrets(message, [password, ...(options.secrets ?? [])]), refusalOf(error), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
