// Entry point of the bin/ commands: runs one command and exits with its code.
import { displayLag } from "./display-lag.ts";
import { processIo } from "./io.ts";
import { reportLag } from "./report-lag.ts";

const commands = { "report-lag": reportLag, "display-lag": displayLag } as const;
const [name, ...args] = process.argv.slice(2);
const command = commands[name as keyof typeof commands];
if (!command) {
  process.stderr.write(`unknown command ${name}\n`);
  process.exit(2);
}
void command(args, processIo())
  .catch((error: unknown) => {
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    return 1;
  })
  // Timers of libraries (cron, keep-alive sockets) must not keep a finished command alive.
  .then((code) => process.exit(code));
