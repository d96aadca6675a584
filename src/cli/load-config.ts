// The configuration, or the lines that say what is wrong with it: one per problem on stderr, where
// the values were looked for, and exit code 2. report-lag and display-lag start the same way.
import { ConfigError, readConfig, type Config } from "../config/config.ts";
import { dotenvNote, loadDotenv, type Io } from "./io.ts";

/** The configuration read from the environment and `.env`, or the exit code 2 once the problems are said. */
export function loadConfig(io: Io): Config | 2 {
  const dotenvFile = loadDotenv(io);
  try {
    const config = readConfig(io.env);
    for (const notice of config.notices) io.stderr(`note: ${notice}\n`);
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.stderr(`configuration error: ${problem}\n`);
    io.stderr(dotenvNote(dotenvFile));
    return 2;
  }
}
