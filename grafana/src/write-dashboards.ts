// `npm run dashboards`: writes grafana/dashboards/*.json from grafana/src/dashboards.ts, and the
// objectives' rules, grafana/alerts/phabmon.slo.rules.yml, from grafana/src/slo-rules.ts.
import { writeFileSync } from "node:fs";
import { DASHBOARDS, renderDashboard } from "./dashboards.ts";
import { renderRules } from "./rules-yaml.ts";
import { SLO_RULES_HEADER, sloRuleGroups } from "./slo-rules.ts";

for (const [file, build] of Object.entries(DASHBOARDS)) {
  const path = new URL(`../dashboards/${file}`, import.meta.url);
  writeFileSync(path, renderDashboard(build));
  console.log(`wrote ${path.pathname}`);
}

const rules = new URL("../alerts/phabmon.slo.rules.yml", import.meta.url);
writeFileSync(rules, renderRules(SLO_RULES_HEADER, sloRuleGroups()));
console.log(`wrote ${rules.pathname}`);
