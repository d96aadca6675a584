// `npm run dashboards`: writes grafana/dashboards/*.json from grafana/src/dashboards.ts.
import { writeFileSync } from "node:fs";
import { DASHBOARDS, renderDashboard } from "./dashboards.ts";

for (const [file, build] of Object.entries(DASHBOARDS)) {
  const path = new URL(`../dashboards/${file}`, import.meta.url);
  writeFileSync(path, renderDashboard(build));
  console.log(`wrote ${path.pathname}`);
}
