// The floor for the scrape benchmark: a bare Node HTTP server answering a fixed body of the size
// /metrics had, so that the machine's and the load generator's own share of the latency is known.
//   node bench/static-server.ts BYTES   (prints the port it listens on)
import { createServer } from "node:http";

const body = Buffer.alloc(Number(process.argv[2] ?? "0"), "# padding\n");
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
});
