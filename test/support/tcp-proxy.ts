// A TCP proxy of the tests' own on loopback, between the service and the test broker, that can
// black-hole the network: bytes stop flowing both ways with no FIN and no RST, and new connections
// are accepted and then hear nothing, as when a route or a firewall drops packets.
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  port: number;
  /** From now on, nothing passes: existing connections go silent, new ones are accepted and ignored. */
  blackhole(): void;
  /** New connections pass again; the silenced ones stay dead, as a peer that gave up would leave them. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let holed = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    if (holed) {
      client.on("data", () => undefined); // read and drop, answer nothing
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    let silenced = false;
    const pass = (from: Socket, to: Socket) =>
      from.on("data", (chunk: Buffer) => {
        if (holed) silenced = true;
        if (!silenced) to.write(chunk);
      });
    pass(client, upstream);
    pass(upstream, client);
    client.on("end", () => !silenced && upstream.end());
    upstream.on("end", () => !silenced && client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    blackhole: () => {
      holed = true;
    },
    restore: () => {
      holed = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
