// Vitest's global setup: the tests' own RabbitMQ node (scripts/test-broker), started once for the run
// and stopped after it. The tests reach it through TEST_AMQP_URL, and the ones that stop, restart or
// add users act on TEST_RABBITMQ_NODE only (test/support/broker.ts `brokerctl`). Given all three
// TEST_* variables, a node someone else runs for the tests is used instead, and left running.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const KEYS = ["TEST_AMQP_URL", "TEST_RABBITMQ_NODE", "TEST_RABBITMQ_HOME"];

export default function setup(): (() => void) | undefined {
  if (KEYS.every((k) => process.env[k])) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "phabmon-test-broker-"));
  execFileSync(join(ROOT, "scripts", "test-broker"), ["start", dir], { stdio: ["ignore", "inherit", "inherit"], timeout: 180_000 });
  for (const line of readFileSync(join(dir, "env"), "utf8").split("\n")) {
    const [key, ...value] = line.split("=");
    if (key && KEYS.includes(key)) process.env[key] = value.join("=");
  }
  return () => {
    execFileSync(join(ROOT, "scripts", "test-broker"), ["stop", dir], { stdio: "inherit", timeout: 60_000 });
  };
}
