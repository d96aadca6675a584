// A harness per test, closed after it whatever happened.
import { afterEach } from "vitest";
import { startHarness, type Harness } from "./harness.ts";

export function harnessPerTest(): (options: Parameters<typeof startHarness>[0]) => Promise<Harness> {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options) => (current = await startHarness(options));
}
