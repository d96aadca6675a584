// A pino logger that keeps every line, and a guard that fails a test on an error it did not expect:
// a check that logs "check failed" or "crashed" where the test expected a clean run is a defect even
// when the numbers it asserts happen to be right.
import { pino, type Logger } from "pino";

export interface TestLog {
  log: Logger;
  lines: Array<Record<string, unknown>>;
  /** Throws when a line at error level or above has a `msg` matching none of `expected`. */
  assertNoUnexpectedErrors(expected?: readonly RegExp[]): void;
}

export function createTestLog(): TestLog {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return {
    log,
    lines,
    assertNoUnexpectedErrors(expected = []) {
      // pino's levels: 50 error, 60 fatal.
      const unexpected = lines.filter((l) => (l.level as number) >= 50 && !expected.some((e) => e.test(String(l.msg))));
      if (unexpected.length > 0) throw new Error(`unexpected error logged:\n${unexpected.map((l) => JSON.stringify(l)).join("\n")}`);
    },
  };
}
