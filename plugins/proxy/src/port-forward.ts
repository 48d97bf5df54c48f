/**
 * `-p N`: a listener on the host's 127.0.0.1:N whose connections are carried to a Unix socket
 * that the in-sandbox helper serves and connects on to the sandbox's own 127.0.0.1:N.
 */
import { connect, createServer, type Socket } from 'node:net';
import { SocketSet, trackedService, type ProxyServer } from './listener.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from './options.js';
import { splice } from './tunnel.js';

export interface PortForwardOptions {
  /** Host port to listen on (on `host`, default 127.0.0.1). */
  readonly port: number;
  readonly host?: string;
  /** Unix socket each connection is forwarded to. */
  readonly path: string;
  readonly idleTimeoutMs?: number;
}

/** Creates the forwarder; a connection that cannot reach `path` is closed at once. */
export function createPortForward(options: PortForwardOptions): ProxyServer {
  const sockets = new SocketSet();
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  // Paused until the inner side answers, so nothing the client sends is read too early.
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client: Socket) => {
    client.on('error', () => client.destroy());
    const inner = connect({ path: options.path, allowHalfOpen: true });
    sockets.add(inner);
    inner.once('error', () => {
      inner.destroy();
      client.destroy();
    });
    inner.once('connect', () => {
      inner.removeAllListeners('error');
      splice(client, inner, idle);
    });
    client.once('close', () => {
      if (inner.connecting) inner.destroy();
    });
  });
  return trackedService(`port-forward:${options.port}`, server, { host: options.host ?? '127.0.0.1', port: options.port }, sockets);
}
