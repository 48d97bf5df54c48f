/**
 * The SOCKS5 proxy (`socks5h`: names are resolved here, never in the sandbox): no-auth CONNECT
 * only, filtered by filterTarget(). The handshake is parsed incrementally with a time limit; a
 * client that is not SOCKS5 is closed, a refused request gets its RFC 1928 reply code.
 */
import { createServer, type Socket } from 'node:net';
import { filterTarget, isPolicyBlock } from './filter.js';
import { SocketSet, trackedService, type TunnelProxy } from './listener.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, decisionReporter, formatTarget, type ProxyOptions } from './options.js';
import {
  encodeReply,
  METHOD_NO_AUTH,
  METHOD_NONE_ACCEPTABLE,
  parseGreeting,
  parseRequest,
  Reply,
  replyForError,
  SOCKS_VERSION,
} from './socks-protocol.js';
import { closeAfter, errnoCode, handOff, splice, type FdSender } from './tunnel.js';
import { openTunnel, unreachable } from './upstream.js';

export interface SocksProxyOptions extends ProxyOptions {
  /** Time allowed from accept to a complete CONNECT request (default 10 s). */
  readonly handshakeTimeoutMs?: number;
}

/** Reads from `socket` until `parse` is no longer incomplete; the bytes it did not use are put back. */
function readMessage<T extends { kind: string }>(socket: Socket, parse: (buf: Buffer) => T): Promise<T | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const result = parse(buf);
      if (result.kind === 'incomplete') return;
      done(result);
      const used = 'used' in result ? (result.used as number) : buf.length;
      if (used < buf.length) socket.unshift(buf.subarray(used));
    };
    const onEnd = (): void => done(undefined);
    const done = (r: T | undefined): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(r);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** Creates the SOCKS5 proxy; start() listens, stop() closes it and every open connection. */
export function createSocksProxy(options: SocksProxyOptions): TunnelProxy {
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeout = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const handshakeTimeout = options.handshakeTimeoutMs ?? 10_000;
  const report = decisionReporter('socks', options);
  const sockets = new SocketSet();
  let handoff: FdSender | undefined;

  async function serve(client: Socket): Promise<void> {
    const timer = setTimeout(() => client.destroy(), handshakeTimeout);
    client.once('close', () => clearTimeout(timer));
    const greeting = await readMessage(client, parseGreeting);
    if (greeting?.kind !== 'ok') return void client.destroy();
    if (!greeting.noAuth) return closeAfter(client, Uint8Array.from([SOCKS_VERSION, METHOD_NONE_ACCEPTABLE]));
    client.write(Uint8Array.from([SOCKS_VERSION, METHOD_NO_AUTH]));
    client.resume();
    const request = await readMessage(client, parseRequest);
    if (request?.kind === 'refuse') return closeAfter(client, encodeReply(request.code));
    if (request?.kind !== 'ok') return void client.destroy();
    clearTimeout(timer);

    const d = await filterTarget(request.host, request.port, options.rules, options.resolve);
    const detail = (outcome: string): string => `CONNECT ${formatTarget(d.host, d.port)} ${outcome}`;
    if (!d.allowed) {
      const blocked = isPolicyBlock(d);
      report({ action: 'block', host: d.host, port: d.port, reason: d.reason, detail: `${detail(blocked ? 'BLOCKED' : 'FAILED')} (${d.reason})` });
      const code = blocked ? Reply.NOT_ALLOWED : d.code === 'unresolved' ? Reply.HOST_UNREACHABLE : Reply.GENERAL_FAILURE;
      return closeAfter(client, encodeReply(code));
    }
    let upstream: Socket;
    try {
      upstream = await openTunnel(d, connectTimeout);
    } catch (e) {
      const reason = unreachable(d, e);
      report({ action: 'block', host: d.host, port: d.port, reason, detail: `${detail('FAILED')} (${reason})` });
      return closeAfter(client, encodeReply(replyForError(errnoCode(e))));
    }
    sockets.add(upstream);
    report({ action: 'allow', host: d.host, port: d.port, reason: d.reason, detail: detail('ALLOWED') });
    if (client.destroyed) return void upstream.destroy();
    const reply = encodeReply(Reply.SUCCEEDED, { address: upstream.localAddress ?? '0.0.0.0', port: upstream.localPort ?? 0 });
    if (handoff && handOff(client, upstream, reply, handoff)) return;
    client.write(reply);
    splice(client, upstream, idleTimeout);
  }

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    client.on('error', () => client.destroy());
    serve(client).catch(() => client.destroy());
  });
  // Assigned, not spread: openSockets is a getter.
  return Object.assign(trackedService('socks-proxy', server, options.listen, sockets), { enableHandoff: (send: FdSender) => void (handoff = send) });
}

/** Creates and starts the SOCKS5 proxy. */
export async function startSocksProxy(options: SocksProxyOptions): Promise<TunnelProxy> {
  const proxy = createSocksProxy(options);
  await proxy.start();
  return proxy;
}
