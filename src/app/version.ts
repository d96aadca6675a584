// What /__version__ and phabmon_build_info report: Dockerflow's version.json (source, version, commit,
// build; https://github.com/mozilla-services/Dockerflow/blob/main/docs/version_object.md), written at
// deploy by `npm run heroku-postbuild` (scripts/write-version-json.ts), or worked out from the checkout.
import { existsSync, readFileSync } from "node:fs";

/**
 * The checkout or the slug: the nearest folder above this code with a package.json (two up from
 * src/app/version.ts, one up from the bundle dist/main.cjs).
 */
function projectRoot(from: URL): URL {
  for (let dir = new URL("./", from); dir.pathname !== "/"; dir = new URL("../", dir)) {
    if (existsSync(new URL("package.json", dir))) return dir;
  }
  return new URL("./", from);
}

const root = projectRoot(new URL(import.meta.url));

export interface VersionInfo {
  source: string;
  version: string;
  commit: string;
  /** Where it was built: a CI build's URL, or the deploy that wrote version.json; "local" in a checkout. */
  build: string;
}

function readCommit(env: Record<string, string | undefined>): string {
  // Heroku's dyno metadata sets HEROKU_SLUG_COMMIT; SOURCE_VERSION is set during its builds.
  const fromEnv = env.HEROKU_SLUG_COMMIT ?? env.SOURCE_VERSION;
  if (fromEnv) return fromEnv;
  try {
    const head = readFileSync(new URL(".git/HEAD", root), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(new URL(`.git/${ref}`, root), "utf8").trim();
    } catch {
      const packed = readFileSync(new URL(".git/packed-refs", root), "utf8");
      return (
        packed
          .split("\n")
          .find((line) => line.endsWith(` ${ref}`))
          ?.split(" ")[0] ?? "unknown"
      );
    }
  } catch {
    return "unknown";
  }
}

export function versionInfo(env: Record<string, string | undefined> = process.env): VersionInfo {
  const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string; repository?: { url?: string } };
  const computed: VersionInfo = {
    source: pkg.repository?.url ?? "https://github.com/mozilla-conduit/phabricator-repo-monitor",
    version: pkg.version,
    commit: readCommit(env),
    build: "local",
  };
  try {
    const written = JSON.parse(readFileSync(new URL("version.json", root), "utf8")) as Partial<VersionInfo>;
    return { ...computed, ...Object.fromEntries(Object.entries(written).filter(([, v]) => typeof v === "string" && v !== "")) };
  } catch {
    return computed;
  }
}
