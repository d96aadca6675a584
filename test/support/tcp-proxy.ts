// A TCP proxy of the tests' own on loopback, between the service and the test broker, that can
// black-hole the network: bytes stop flowing both ways with no FIN and no RST, and new connections
// are accepted and then hear nothing, as when a route or a firewall drops packets.
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** What a connection through the proxy does, besides passing bytes. */
export interface ConnectionFault {
  /** Reset the connection (RST) the first time the client sends bytes this predicate matches. */
  resetWhen?: (fromClient: Buffer) => boolean;
}

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** The fault of the next connections; undefined passes everything. */
  fault: ConnectionFault | undefined;
  /** From now on, nothing passes: existing connections go silent, new ones are accepted and ignored. */
  blackhole(): void;
  /** New connections pass again; the silenced ones stay dead, as a peer that gave up would leave them. */
  restore(): void;
  /** Resets (RST) every open connection, as a broker or a load balancer dropping them would. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let holed = false;
  const sockets = new Set<Socket>();
  const proxy = { connections: 0, fault: undefined as ConnectionFault | undefined };
  const server = createServer((client) => {
    proxy.connections++;
    const fault = proxy.fault;
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
        if (from === client && fault?.resetWhen?.(chunk)) {
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (!silenced) to.write(chunk);
      });
    pass(client, upstream);
    pass(upstream, client);
    client.on("end", () => !silenced && upstream.end());
    upstream.on("end", () => !silenced && client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    get connections() {
      return proxy.connections;
    },
    get fault() {
      return proxy.fault;
    },
    set fault(next) {
      proxy.fault = next;
    },
    port: (server.address() as AddressInfo).port,
    blackhole: () => {
      holed = true;
    },
    restore: () => {
      holed = false;
    },
    resetAll: () => {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An AMQP 0-9-1 method frame in `chunk` (frame type 1, then channel, size, class and method ids):
 * channel.open is class 20, method 10 (the AMQP 0-9-1 specification, section 4.2.3 and the class table).
 */
export function hasAmqpMethod(chunk: Buffer, classId: number, methodId: number): boolean {
  for (let i = 0; i + 11 <= chunk.length; i++) {
    if (chunk[i] === 1 && chunk.readUInt16BE(i + 7) === classId && chunk.readUInt16BE(i + 9) === methodId) return true;
  }
  return false;
}
