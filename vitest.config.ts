import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The tests' own RabbitMQ node, never the machine's (scripts/test-broker).
    globalSetup: ["test/support/global-broker.ts"],
    // The AMQP and end-to-end suites share one broker; running files one at a time keeps
    // their queues from competing for the machine's two cores.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default"],
  },
});
