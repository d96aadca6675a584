// What a failure to reach Pulse means to the person who configured it, in one line that names the
// variable to look at. The error shapes are the ones Node and amqplib give (read against a real
// RabbitMQ in test/cli-errors.amqp.test.ts); anything else keeps its own message, on one line.

export interface Endpoint {
  /** host:port, as PULSE_URL gives it. */
  host: string;
  tls: boolean;
  username: string;
  /** The virtual host, PULSE_URL's path. */
  vhost: string;
}

/** The broker said no to these credentials (`login`) or to this virtual host for this user (`vhost`). */
export type Refusal = "login" | "vhost";

/**
 * Whether the broker answered the handshake with a refusal, in the forms amqplib reports it
 * (lib/connection.js, read against a real RabbitMQ in test/cli/check-config-pulse.amqp.test.ts):
 * a login refused is "Handshake terminated by server: 403 (ACCESS-REFUSED) with message …"; a
 * virtual host refused comes after the login was accepted, as a connection.close in answer to
 * connection.open (RabbitMQ's 530 NOT_ALLOWED), which amqplib says without the code: "Expected
 * ConnectionOpenOk; got <ConnectionClose channel:0>".
 */
export function refusalOf(error: unknown): Refusal | undefined {
  const err = error as (Error & { code?: string | number }) | undefined;
  const message = err?.message ?? String(error);
  if (/ACCESS.REFUSED/.test(message) || err?.code === 403) return "login";
  if (/NOT.ALLOWED/.test(message) || err?.code === 530 || /Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) return "vhost";
  return undefined;
}

const ONE_LINE = /\s*[\r\n]+\s*/g;

/** The error's message on one line, without URLs (they may carry credentials) and without OpenSSL's internals. */
export function oneLine(error: unknown): string {
  const message = (error as Error | undefined)?.message ?? String(error);
  return message
    .replace(/amqps?:\/\/[^\s]*/g, "<url>")
    .replace(ONE_LINE, " ")
    .trim()
    .slice(0, 300);
}

export function connectFailureMessage(error: unknown, at: Endpoint): string {
  const err = error as (Error & { code?: string | number }) | undefined;
  const message = err?.message ?? String(error);
  const code = err?.code;
  // Node's TLS client reading a plain AMQP server's answer: OpenSSL's "wrong version number".
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(message)) {
    return `${at.host} does not speak TLS: check amqp:// vs amqps:// in PULSE_URL (Pulse itself is amqps:// on 5671)`;
  }
  const refusal = refusalOf(error);
  if (refusal === "login") return `${at.host} refused the login of user "${at.username}": check PULSE_USERNAME and PULSE_PASSWORD`;
  if (refusal === "vhost") {
    return `${at.host} refused user "${at.username}" the virtual host "${at.vhost}": check the path of PULSE_URL (none means /) and PULSE_USERNAME`;
  }
  if (!at.tls && /socket closed abruptly|ECONNRESET/i.test(message)) {
    return `${at.host} closed the connection during the AMQP handshake: if that port speaks TLS, PULSE_URL should start with amqps://`;
  }
  if (code === "ECONNREFUSED") return `${at.host} refused the connection: check the host and port in PULSE_URL`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the host of PULSE_URL (${at.host})`;
  return `cannot connect to ${at.host}: ${oneLine(error)}`;
}

export function missingQueueMessage(queue: string): string {
  return `queue ${queue} does not exist, and read-only mode (--no-send) creates nothing: run the service once without --no-send to declare it, or check PULSE_QUEUE_NAME`;
}
