// Every upstream answer is bounded in size and time, whatever its headers say: a chunked body (no
// content-length) is cut at MAX_BODY_BYTES as it arrives, and a body that drips a byte at a time
// (each wait shorter than bodyTimeout) ends at the request's deadline. Against a real local HTTP server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, createUpstream } from "../../src/upstream/upstream.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("upstream answers are bounded", () => {
  it("cuts a chunked answer at MAX_BODY_BYTES without reading the rest", async () => {
    const chunk = Buffer.alloc(1024 * 1024, "x");
    let written = 0;
    let closed = () => undefined as void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.on("close", closed);
      // 200 MB offered, chunked (no content-length), as fast as the client reads it.
      const more = () => {
        while (written < 200 * chunk.length && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      more();
    });
    const upstream = createUpstream({ service: "hgmo", baseUrl: url, timeoutMs: 10_000, maxRetries: 0 });
    try {
      await expect(upstream.request({ method: "GET", path: "/big" })).rejects.toThrow(new RegExp(`GET /big: the body is larger than ${MAX_BODY_BYTES} bytes$`));
      await connectionClosed;
      // The connection was cut near the limit, not after the whole answer.
      expect(written).toBeLessThan(MAX_BODY_BYTES + 32 * chunk.length);
    } finally {
      await upstream.close();
    }
  });

  it("ends a body that drips at the request's deadline, though each byte comes within bodyTimeout", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const drip = setInterval(() => res.write(" "), 100);
      res.on("close", () => clearInterval(drip));
    });
    const upstream = createUpstream({ service: "hgmo", baseUrl: url, timeoutMs: 500, maxRetries: 1 });
    try {
      const started = performance.now();
      await expect(upstream.request({ method: "GET", path: "/drip" })).rejects.toThrow(/GET \/drip: no whole answer within 4 s$/);
      // The deadline: two attempts of 0.5 s with a second's slack each, and one wait of at most 1 s between them.
      expect(performance.now() - started).toBeGreaterThanOrEqual(3990);
    } finally {
      await upstream.close();
    }
  });

  it("scrubs every secret from the errors it makes", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500).end();
    });
    const upstream = createUpstream({ service: "phabricator", baseUrl: url, timeoutMs: 500, maxRetries: 0, secrets: ["127.0.0.1"] });
    try {
      await expect(upstream.request({ method: "GET", path: "/x" })).rejects.toThrow(/^\[redacted\]:\d+ GET \/x: HTTP 500 after 1 attempt$/);
    } finally {
      await upstream.close();
    }
  });
});
