// The commands' help and version flags, in-process (they return before any configuration is read).
import { describe, expect, it } from "vitest";
import { reportLag } from "../../src/cli/report-lag.ts";
import { displayLag } from "../../src/cli/display-lag.ts";
import type { Io } from "../../src/cli/io.ts";

function io(): Io & { out: string; err: string } {
  const captured = {
    out: "",
    err: "",
    env: { SOURCE_VERSION: "0123456789abcdef0123456789abcdef01234567" },
    isTTY: false,
    stdout: (t: string) => void (captured.out += t),
    stderr: (t: string) => void (captured.err += t),
  };
  return captured;
}

describe("-h and -V/-v", () => {
  for (const [name, command] of [
    ["report-lag", reportLag],
    ["display-lag", displayLag],
  ] as const) {
    it(`${name}: -h and --help print the usage, -V, -v and --version the version, each exiting 0 with nothing on stderr`, async () => {
      for (const flag of ["-h", "--help"]) {
        const c = io();
        expect(await command([flag], c)).toBe(0);
        expect(c.out).toMatch(new RegExp(`^Usage: ${name} `));
        expect(c.err).toBe("");
      }
      for (const flag of ["-V", "-v", "--version"]) {
        const c = io();
        expect(await command([flag], c)).toBe(0);
        expect(c.out).toMatch(new RegExp(`^${name} \\S+ \\(\\S+\\)\\n$`));
        expect(c.err).toBe("");
      }
    });
  }
});

describe("--json", () => {
  it("without --once is a usage error (exit 2), not a flag the service ignores", async () => {
    const c = io();
    expect(await reportLag(["--json"], c)).toBe(2);
    expect(c.err).toMatch(/^report-lag: --json needs --once\n/);
    expect(c.out).toBe("");
  });
});

describe("--help", () => {
  it("lists each command's exit codes, as the contract has them", async () => {
    const report = io();
    await reportLag(["--help"], report);
    expect(report.out).toMatch(
      /\nExit status:\n {2}0 {2}the service stopped on SIGTERM or SIGINT;[^]*\n {2}1 {2}--once: a check failed[^]*\n {2}2 {2}bad configuration/,
    );
    const display = io();
    await displayLag(["--help"], display);
    expect(display.out).toMatch(
      /\nExit status:\n {2}0 {2}every answer was given[^]*\n {2}1 {2}an upstream failure[^]*\n {2}2 {2}bad configuration, or a bad command line\n$/,
    );
  });
});
