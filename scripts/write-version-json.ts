// Dockerflow's version.json at the root of the build, run by Heroku's Node.js buildpack as the
// `heroku-postbuild` script (which it runs instead of `build`: dist/ was compiled once already, by
// `npm ci`'s `prepare`). SOURCE_VERSION is the commit Heroku builds
// (https://devcenter.heroku.com/articles/buildpack-api#bin-compile); BUILD_URL, when a CI system
// sets it, names the build; otherwise the build is named by the time it ran.
import { writeFileSync } from "node:fs";
import { versionInfo } from "../src/app/version.ts";

const info = versionInfo(process.env);
const build = process.env.BUILD_URL ?? `heroku build of ${info.commit.slice(0, 12)} at ${new Date().toISOString()}`;
const document = { source: info.source, version: info.version, commit: info.commit, build };
writeFileSync(new URL("../version.json", import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`version.json: ${JSON.stringify(document)}\n`);
