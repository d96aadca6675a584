// What Heroku reads: the Procfile, app.json (every config var, its default, whether it is required
// or secret, and the one-dyno formation) and the pinned Node line.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VARIABLES, readConfig } from "../src/config.ts";
import { ROOT } from "./support/harness.ts";

interface AppJson {
  env: Record<string, { description: string; required: boolean; value?: string; generator?: string }>;
  formation: Record<string, { quantity: number; size: string }>;
  buildpacks: Array<{ url: string }>;
}

const app = JSON.parse(readFileSync(join(ROOT, "app.json"), "utf8")) as AppJson;
const REQUIRED = { PULSE_USERNAME: "monitor", PULSE_PASSWORD: "pw", PULSE_QUEUE_NAME: "q", REPOSITORIES: "integration/autoland=MOZILLACENTRAL" };

describe("Heroku", () => {
  it("runs one process type for the service and validates the configuration in the release phase", () => {
    expect(readFileSync(join(ROOT, "Procfile"), "utf8")).toBe("web: bin/report-lag\nrelease: bin/report-lag --check-config\n");
  });

  it("app.json describes every configuration variable, and its defaults are the service's", () => {
    expect(Object.keys(app.env).sort()).toEqual([...VARIABLES].sort());
    for (const [name, spec] of Object.entries(app.env)) expect(spec.description.length, name).toBeGreaterThan(10);
    expect(
      Object.entries(app.env)
        .filter(([, s]) => s.required)
        .map(([n]) => n)
        .sort(),
    ).toEqual(Object.keys(REQUIRED).sort());
    for (const secret of ["PULSE_PASSWORD", "PHABRICATOR_API_TOKEN", "METRICS_TOKEN"]) expect(app.env[secret]?.description).toMatch(/^Secret\. /);
    expect(app.env.METRICS_TOKEN?.generator).toBe("secret");
    const defaults = Object.fromEntries(
      Object.entries(app.env).flatMap(([name, spec]) => (spec.value === undefined || name in REQUIRED ? [] : [[name, spec.value]])),
    );
    expect(Object.keys(defaults).length).toBeGreaterThan(5);
    expect(readConfig({ ...REQUIRED, ...defaults })).toEqual(readConfig(REQUIRED));
  });

  it("asks for exactly one standard-1X web dyno and the Node.js buildpack on the pinned Node line", () => {
    expect(app.formation).toEqual({ web: { quantity: 1, size: "standard-1X" } });
    expect(app.buildpacks).toEqual([{ url: "heroku/nodejs" }]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe("24.x");
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});
