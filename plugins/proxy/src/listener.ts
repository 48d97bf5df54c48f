/**
 * A host service around a net.Server that knows every socket it owns (accepted and outgoing), so
 * stop() leaves no descriptor behind, whatever state the connections are in.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import type { HostService } from '@fence/core';
import type { FdSender } from './tunnel.js';

/**
 * Where a server listens: a Unix socket path (Linux, bridged into the sandbox) or a TCP address.
 * `refusal` (the proxy service's, service-peers.ts) says why a connection's peer is not served:
 * such a connection is closed before anything is read from it.
 */
export type ListenTarget =
  | { readonly path: string; readonly refusal?: (socket: Socket) => string | undefined }
  | { readonly host: string; readonly port: number };

export const describeTarget = (t: ListenTarget): string => ('path' in t ? t.path : `${t.host}:${t.port}`);

export interface ProxyServer extends HostService {
  readonly target: ListenTarget;
  /** The bound address once listening (the real port when port 0 was asked for). */
  address(): AddressInfo | string | null;
  /** Sockets open right now, accepted and outgoing. */
  readonly openSockets: number;
}

/** A proxy whose tunnels can be handed to the bridge that connects to it (see handOff in tunnel.ts). */
export interface TunnelProxy extends ProxyServer {
  /** From now on, tunnels are handed off with `send` when the bridge side allows it. */
  enableHandoff(send: FdSender): void;
}

export class SocketSet {
  readonly #sockets = new Set<Socket>();

  add(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  get size(): number {
    return this.#sockets.size;
  }

  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

export function trackedService(name: string, server: Server, target: ListenTarget, sockets: SocketSet): ProxyServer {
  const refusal = 'path' in target ? target.refusal : undefined;
  // Before the server's own listener, which then sees a closed socket and reads nothing.
  if (refusal) server.prependListener('connection', (s: Socket) => void (refusal(s) !== undefined && s.destroy()));
  server.on('connection', (s: Socket) => sockets.add(s));
  let listening = false;
  return {
    name,
    target,
    address: () => server.address(),
    get openSockets() {
      return sockets.size;
    },
    start: () =>
      new Promise<void>((resolve, reject) => {
        const fail = (e: Error): void => reject(e);
        server.once('error', fail);
        // A full Unix socket backlog makes a non-blocking connect fail at once (EAGAIN), so leave room for bursts.
        const backlog = 4096;
        server.listen('path' in target ? { path: target.path, backlog } : { host: target.host, port: target.port, backlog }, () => {
          server.off('error', fail);
          // Accept errors (EMFILE under load) are transient; the server keeps serving.
          server.on('error', () => undefined);
          listening = true;
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!listening) return resolve();
        listening = false;
        server.close(() => resolve());
        sockets.destroyAll();
      }),
  };
}

/** A service whose start() failure names what could not be started and how to fix it. */
export function explained(service: ProxyServer, explain: (e: unknown) => Error): HostService {
  return { name: service.name, start: () => service.start().catch((e: unknown) => Promise.reject(explain(e))), stop: () => service.stop() };
}
