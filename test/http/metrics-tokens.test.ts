// METRICS_TOKEN during a rotation (`<new>,<old>`): either token opens /metrics, /status, / and the
// heartbeat's details, as a bearer token or as a Basic-auth password; anything else is a 401 (and the
// heartbeat's summary only).
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createHttpServer, tokenAccepted } from "../../src/http/server.ts";
import { documentOf } from "../support/status.ts";

const NEW = "new-metrics-token-0123456789";
const OLD = "old-metrics-token-0123456789";
const OTHER = "another-token-0123456789ab";
const bearer = (token: string) => `Bearer ${token}`;
const basic = (password: string, user = "anyone") => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("tokenAccepted", () => {
  it("accepts either token, as a bearer token or as the password of Basic auth (any user name)", () => {
    for (const token of [NEW, OLD]) {
      expect(tokenAccepted(bearer(token), [NEW, OLD])).toBe(true);
      expect(tokenAccepted(basic(token), [NEW, OLD])).toBe(true);
      expect(tokenAccepted(basic(token, ""), [NEW, OLD])).toBe(true);
    }
    expect(tokenAccepted(bearer(NEW), [NEW])).toBe(true);
  });

  it("refuses any other token, a token joined with the other, a token as the user name, and no header", () => {
    for (const tokens of [[NEW], [NEW, OLD]]) {
      expect(tokenAccepted(bearer(OTHER), tokens)).toBe(false);
      expect(tokenAccepted(bearer(`${NEW},${OLD}`), tokens)).toBe(false);
      expect(tokenAccepted(basic(OTHER), tokens)).toBe(false);
      expect(tokenAccepted(`Basic ${Buffer.from(`${NEW}:`).toString("base64")}`, tokens)).toBe(false);
      expect(tokenAccepted(`bearer${NEW}`, tokens)).toBe(false);
      expect(tokenAccepted(undefined, tokens)).toBe(false);
    }
    expect(tokenAccepted(bearer(OLD), [NEW])).toBe(false);
  });

  it("accepts nothing when there is no token: the caller decides whether that means public", () => {
    expect(tokenAccepted(bearer(NEW), [])).toBe(false);
    expect(tokenAccepted(undefined, [])).toBe(false);
  });
});

describe("the HTTP server with two metrics tokens", () => {
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const server = createHttpServer({
      registry: new Registry(),
      metricsTokens: [NEW, OLD],
      health: () => ({ healthy: true, summary: { status: "ok", checks: { replication: true } }, body: { details: "hosts and queues" } }),
      version: { source: "", version: "0.1.0", commit: "test", build: "local" },
      status: () => documentOf({ repositories: [] }, [], Date.now()),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => close?.());

  const get = (path: string, authorization?: string) => fetch(`${url}${path}`, authorization ? { headers: { authorization } } : {});

  it("opens /metrics, /status and / to either token, bearer or Basic, and answers 401 to a third", async () => {
    for (const path of ["/metrics", "/status", "/"]) {
      for (const authorization of [bearer(NEW), bearer(OLD), basic(NEW), basic(OLD)]) {
        expect((await get(path, authorization)).status, `${path} ${authorization.split(" ")[0]}`).toBe(200);
      }
      for (const authorization of [bearer(OTHER), basic(OTHER), undefined]) expect((await get(path, authorization)).status, path).toBe(401);
    }
  });

  it("gives the heartbeat's details to either token, and only the summary to a third", async () => {
    for (const authorization of [bearer(NEW), basic(OLD)])
      expect(await (await get("/__heartbeat__", authorization)).json()).toEqual({ details: "hosts and queues" });
    expect(await (await get("/__heartbeat__", bearer(OTHER))).json()).toEqual({ status: "ok", checks: { replication: true } });
  });
});
