// DogStatsD over UDP with hot-shots (https://github.com/bdeitte/hot-shots), loaded only when
// STATSD_HOST is set, so a service without it carries none of it. UDP is fire-and-forget: a lost
// datagram or an absent agent costs a log line, never a check.
import type { Logger } from "pino";
import type { LegacyGauge } from "./legacy-gauges.ts";

export interface GaugeSender {
  send(gauges: readonly LegacyGauge[]): void;
  close(): Promise<void>;
}

export async function createStatsdSender(options: { host: string; port: number; log: Logger }): Promise<GaugeSender> {
  const { default: StatsD } = await import("hot-shots");
  let lastError: string | undefined;
  const client = new StatsD({
    host: options.host,
    port: options.port,
    protocol: "udp",
    // The earlier service sent plain gauges: no tags from DD_* variables, no client telemetry.
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    errorHandler: (error) => {
      // Once per distinct error, not at every send while the agent is away.
      if (error.message !== lastError) options.log.warn({ err: error, host: options.host, port: options.port }, "could not send to StatsD");
      lastError = error.message;
    },
  });
  return {
    send(gauges) {
      for (const { name, value } of gauges) client.gauge(name, value);
    },
    close: () => new Promise((resolve) => client.close(() => resolve())),
  };
}
