// `npm run docs:metrics`: writes docs/metrics.md from the registry of the app with every check on.
import { mkdirSync, writeFileSync } from "node:fs";
import { describeMetrics, renderMetricsReference } from "../src/app/metrics-reference.ts";
import { buildFullyConfiguredApp } from "./fully-configured-app.ts";

const app = buildFullyConfiguredApp();
try {
  const path = new URL("../docs/metrics.md", import.meta.url);
  mkdirSync(new URL(".", path), { recursive: true });
  writeFileSync(path, renderMetricsReference(describeMetrics(app.registry)));
  console.log(`wrote ${path.pathname}`);
} finally {
  await app.close();
}
