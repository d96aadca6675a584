// What Heroku reads: the Procfile, app.json (every config var, its default, whether it is required
// or secret, and the one-dyno formation) and the pinned Node line.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VARIABLES, readConfig } from "../src/config/config.ts";
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

  it("compiles once per deploy: npm ci's prepare builds, and the buildpack's heroku-postbuild (run instead of build) only writes version.json", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(pkg.scripts["heroku-postbuild"]).toBe("scripts/node scripts/write-version-json.ts");
    expect(readFileSync(join(ROOT, "scripts", "write-version-json.ts"), "utf8")).not.toMatch(/tsc|npm run build/);
  });

  it("leaves tests, benches, the demo and the dashboards out of the slug, and keeps what the dyno runs", () => {
    const ignored = readFileSync(join(ROOT, ".slugignore"), "utf8")
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining(["test", "bench", "demo", "grafana", "conformance"]));
    for (const kept of ["bin", "dist", "scripts", "src", "package.json", "Procfile", "node_modules"]) expect(ignored).not.toContain(kept);
  });

  it("writes Dockerflow's version.json with a build field, and /__version__ reports it", () => {
    const dir = mkdtempSync(join(tmpdir(), "phabmon-slug-"));
    for (const path of ["package.json", "src/app/version.ts", "scripts/write-version-json.ts", "scripts/node", "bin/find-node"])
      cpSync(join(ROOT, path), join(dir, path));
    const out = execFileSync(join(dir, "scripts", "node"), [join(dir, "scripts", "write-version-json.ts")], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SOURCE_VERSION: "0123456789abcdef0123456789abcdef01234567" },
      encoding: "utf8",
    });
    expect(out).toMatch(/^version\.json: /);
    const written = JSON.parse(readFileSync(join(dir, "version.json"), "utf8")) as Record<string, string>;
    expect(written).toEqual({
      source: "https://github.com/mozilla-conduit/phabricator-repo-monitor",
      version: "0.1.0",
      commit: "0123456789abcdef0123456789abcdef01234567",
      build: expect.stringMatching(/^heroku build of 0123456789ab at \d{4}-\d\d-\d\dT/),
    });
    const fromSlug = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { versionInfo } from ${JSON.stringify(join(dir, "src", "app", "version.ts"))}; console.log(JSON.stringify(versionInfo({})));`,
      ],
      {
        encoding: "utf8",
      },
    );
    expect(JSON.parse(fromSlug)).toEqual(written);
  });

  it("asks for exactly one standard-1X web dyno and the Node.js buildpack on the pinned Node line", () => {
    expect(app.formation).toEqual({ web: { quantity: 1, size: "standard-1X" } });
    expect(app.buildpacks).toEqual([{ url: "heroku/nodejs" }]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe("24.x");
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});
