// What the public URL gives away: a refused Conduit token (which Phabricator repeats in its error text)
// is reported as a fixed sentence everywhere, /__heartbeat__ without credentials says only a status
// word and per-check booleans, every answer carries nosniff and the page its CSP, a request target Node
// cannot parse is a 400, and a service with no METRICS_TOKEN says once that it is public. The real
// service, the tests' broker, the local stand-ins.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/per-test.ts";

const AUTOLAND = "integration/autoland";
const TOKEN = "metrics-token-for-public-endpoints";
const REFUSED = "Phabricator refused PHABRICATOR_API_TOKEN (ERR-INVALID-AUTH)";
const harness = harnessPerTest();
const nowS = () => Math.floor(Date.now() / 1000);

/** The status line of a raw request, for targets fetch() would not send as they are. */
function rawStatus(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    socket.on("end", () => resolve(text.split("\r\n")[0] ?? ""));
    socket.on("error", reject);
  });
}

describe("the public endpoints", () => {
  it("never show a refused Conduit token, and the heartbeat without credentials says only what is healthy", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    await h.push(AUTOLAND, 1, nowS() - 60);
    // A token one character too long: Phabricator repeats it, and it contains the real one.
    const configured = `${h.phab.token}x`;
    const svc = await h.start([], { METRICS_TOKEN: TOKEN, PHABRICATOR_API_TOKEN: configured });
    await svc.waitForLog("waiting for the next check");

    const open = await fetch(`${svc.url}/__heartbeat__`);
    expect(open.status).toBe(503);
    expect(await open.json()).toEqual({ status: "error", checks: { pulse: true, replication: false } });
    const detailed = await fetch(`${svc.url}/__heartbeat__`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const details = (await detailed.json()) as { checks: Record<string, { lastError: string | null }> };
    expect(details.checks[AUTOLAND]?.lastError).toBe(REFUSED);
    const status = await (await fetch(`${svc.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const page = await (await fetch(`${svc.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(status).toContain(REFUSED);
    const everything = [JSON.stringify(details), status, page, JSON.stringify(svc.logs)].join("\n");
    expect(everything).not.toContain(h.phab.token);
    svc.signal();
    await svc.finished;
  });

  it("--check-config exits 2 on a refused token, saying so without the token", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const configured = `${h.phab.token}x`;
    const result = await h.run(["--check-config"], { PHABRICATOR_API_TOKEN: configured });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`configuration error: ${REFUSED}\n`);
    expect(result.stdout + result.stderr).not.toContain(h.phab.token);
  });

  it("sends nosniff on every answer and a CSP with the page; a target Node cannot parse is a 400, not a 500", async () => {
    const h = await harness({ repositories: [`${AUTOLAND}=MOZILLACENTRAL`], token: true });
    const svc = await h.start([]);
    await svc.waitForLog("waiting for the next check");
    // No METRICS_TOKEN: said once, at start-up.
    expect(svc.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("METRICS_TOKEN is not set"))).toHaveLength(1);
    for (const path of ["/", "/status", "/metrics", "/__heartbeat__", "/__lbheartbeat__", "/__version__", "/nowhere"]) {
      expect((await fetch(`${svc.url}${path}`)).headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect((await fetch(`${svc.url}/`)).headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    expect(await rawStatus(svc.port, "//[")).toBe("HTTP/1.1 400 Bad Request");
    expect(await rawStatus(svc.port, "//x:99999/")).toBe("HTTP/1.1 400 Bad Request");
    expect(svc.logs.filter((l) => l.msg === "http handler failed")).toEqual([]);
    svc.signal();
    await svc.finished;
  });
});
