import { describe, expect, it } from "vitest";
import { CheckStoppedError, SharedQueueError, checkFailure, failureReason } from "../../src/run/check-failure.ts";
import { UnknownRepositoryError } from "../../src/mirror/mirror.ts";

describe("CheckFailure", () => {
  it("keeps the step, the service and the error as thrown; the message puts the context first", () => {
    const cause = new Error("connect ECONNREFUSED");
    const failure = checkFailure("gap_search", "hgmo", cause, { context: "looking for pushes that never arrived" });
    expect(failure).toMatchObject({ step: "gap_search", service: "hgmo", message: "looking for pushes that never arrived: connect ECONNREFUSED" });
    expect(failure.cause).toBe(cause);
    expect(checkFailure("pushlog", "hgmo", "a string").cause).toBeInstanceOf(Error);
  });

  it("names the reason by the cause's type where it says more than the step", () => {
    expect(failureReason(checkFailure("mirror", "phabricator", new UnknownRepositoryError("NOSUCH")))).toBe("unknown_repository");
    expect(failureReason(checkFailure("pushlog", "hgmo", new CheckStoppedError()))).toBe("stopped");
    const stopped = new AbortController();
    stopped.abort();
    // Whatever an aborted request throws, the check was stopped: no service is at fault.
    expect(failureReason(checkFailure("mirror", "phabricator", new Error("This operation was aborted"), { signal: stopped.signal }))).toBe("stopped");
    expect(failureReason(checkFailure("queue", "pulse", new SharedQueueError("another consumer")))).toBe("queue_shared");
    expect(failureReason(checkFailure("mirror", "phabricator", new Error("HTTP 500")))).toBe("mirror");
  });
});
