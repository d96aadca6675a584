// `npm run test:unit`: the tests that need no broker, no browser and no Prometheus binaries (the core,
// the checks with fakes of their ports, the adapters against local fake servers, the configuration),
// in parallel, in seconds. `npm test` runs everything.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "test/**/*.amqp.test.ts",
      "test/**/*.browser.test.ts",
      "test/bench.smoke.test.ts",
      "test/grafana.test.ts",
      "test/alertmanager.test.ts",
      "test/conformance.test.ts",
    ],
    testTimeout: 30_000,
    reporters: ["default"],
  },
});
