// The app with every check on, for the metrics reference (docs/metrics.md) and its test: replication
// of an hg and of a Git mirror, the code-review pipeline, the Git → hg sync and a queue of another
// team; StatsD off. Built, never started, and nothing it holds connects anywhere: the one read a
// scrape makes (the queues' depths, src/pulse/queue-depths.ts) is answered here.
import { pino } from "pino";
import { buildApp, type App } from "../src/app/build-app.ts";
import { readConfig } from "../src/config/config.ts";

export const FULLY_CONFIGURED_ENV = {
  // Port 1: were anything to try, it would be refused at once, on this machine.
  PULSE_URL: "amqp://127.0.0.1:1/",
  PULSE_USERNAME: "monitor",
  PULSE_PASSWORD: "a-pulse-password",
  PULSE_QUEUE_NAME: "phabricator-repo-monitor",
  REPOSITORIES: "integration/autoland=AUTOLAND:git,mozilla-central=MOZILLACENTRAL",
  PHABRICATOR_API_TOKEN: "api-abcdefghijklmnopqrstuvwxyz12",
  CODE_REVIEW_TRY_REPOSITORY: "try",
  GIT_BRANCHES: "autoland=integration/autoland",
  QUEUE_DEPTH_QUEUES: "queue/other/watched",
};

export function buildFullyConfiguredApp(): App {
  const config = readConfig(FULLY_CONFIGURED_ENV);
  const app = buildApp({ config, log: pino({ level: "silent" }), version: { source: "", version: "0", commit: "t", build: "local" }, readOnly: true });
  const off = app.table.filter((entry) => entry.check === undefined).map((entry) => `${entry.kind.name} (${entry.off})`);
  if (off.length > 0) throw new Error(`the fully configured app has checks off: ${off.join(", ")}`);
  // Every queue reads as empty, with no consumer: a scrape then exports the queue series, labels and all.
  app.pulse.queueDepth = () => Promise.resolve({ messages: 0, consumers: 0 });
  return app;
}
