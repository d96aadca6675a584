// `npm run build`: src/ and its dependencies bundled into one CommonJS file, dist/main.cjs, which bin/
// runs (https://esbuild.github.io/api/). Measured against tsc's one-file-per-module dist/
// (bench/README.md): `report-lag --version` 0.22-0.29 s instead of 0.41-0.48 s (384 files resolved and read
// at start before), and the steady state 84 MB instead of 90 MB after 60 checks.
// CommonJS, not ESM: an ESM bundle of the same code measured 7 MB more than tsc's dist/ after 60 checks,
// with 10.6 MB of external memory against 4.7 MB (3.8 MB for this bundle): Node's ESM loader seems to
// keep the 3 MB source a second time.
// Whitespace and syntax minified (an unminified bundle costs 4 MB more), names kept, so that a stack
// trace names the real functions; dist/main.cjs.map maps it to src/ under `NODE_OPTIONS=--enable-source-maps`
// (not on by default: it costs 9 MB of RSS).
import { execFileSync } from "node:child_process";
import { build } from "esbuild";

const result = await build({
  entryPoints: [new URL("../src/cli/main.ts", import.meta.url).pathname],
  outfile: new URL("../dist/main.cjs", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  // Loaded at run time from node_modules, only when asked for: Sentry when SENTRY_DSN is set,
  // pino-pretty for --debug on a terminal, hot-shots' optional native Unix-socket transport.
  external: ["@sentry/node", "pino-pretty", "unix-dgram"],
  // src/ is ESM and reads its own place (version.ts, logger.ts); in the bundle that is dist/main.cjs.
  define: { "import.meta.url": "__import_meta_url" },
  banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
process.stdout.write(`dist/main.cjs: ${(bytes / 2 ** 20).toFixed(1)} MB\n`);
// One start, so that V8's compile cache of the bundle (bin/find-node) is warm in the build, not at
// the first start of the service.
execFileSync(new URL("../bin/report-lag", import.meta.url).pathname, ["--version"], { stdio: "ignore" });
