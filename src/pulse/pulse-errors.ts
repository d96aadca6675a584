// What a failure to reach Pulse means to the person who configured it, in one line that names the
// variable to look at. The error shapes are the ones Node and amqplib give (read against a real
// RabbitMQ in test/cli-errors.amqp.test.ts); anything else keeps its own message, on one line.

export interface Endpoint {
  /** host:port, as PULSE_URL gives it. */
  host: string;
  tls: boolean;
  username: string;
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
  if (/ACCESS.REFUSED/.test(message) || code === 403) {
    return `${at.host} refused the login of user "${at.username}": check PULSE_USERNAME and PULSE_PASSWORD`;
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
