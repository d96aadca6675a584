// Errors are logged whole under pino's `err` key (type, message, stack, causes), and no secret the
// process holds leaves in them, whatever made the error.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/app/logger.ts";

const SECRET = "api-sekrit-conduit-token-0001";

function captured(secrets?: string[]) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { log: createLogger({ level: "debug", destination, ...(secrets ? { secrets } : {}) }), lines };
}

describe("the logger", () => {
  it("keeps an error's type and stack, and its causes", () => {
    const { log, lines } = captured();
    class UpstreamError extends Error {
      override name = "UpstreamError";
    }
    log.error({ err: new UpstreamError("hg: HTTP 500", { cause: new Error("ECONNRESET") }) }, "check failed");
    const err = lines[0]?.err as { type: string; message: string; stack: string };
    expect(err.type).toBe("UpstreamError");
    expect(err.message).toContain("hg: HTTP 500");
    expect(err.stack).toMatch(/UpstreamError: hg: HTTP 500\n\s+at /);
    expect(JSON.stringify(err)).toContain("ECONNRESET");
  });

  it("scrubs every secret from a logged error: message, stack and causes", () => {
    const { log, lines } = captured([SECRET]);
    log.warn({ err: new Error(`refused ${SECRET}`, { cause: new Error(`token ${SECRET} again`) }) }, "something failed");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain(SECRET);
    expect(text).toContain("[redacted]");
  });
});
