/** Real sockets for the proxy tests: temp dirs, local servers, raw clients, descriptor counts. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Violation } from '@fence/core';
import type { NetworkRules } from '../src/filter.js';
import type { ProxyServer } from '../src/listener.js';
import type { ProxyOptions } from '../src/options.js';

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'fence-proxy-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** Waits until the descriptor count is back to `start` (closes are asynchronous), or times out. */
export async function fdsSettle(start: number, timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (fdCount() > start && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return fdCount();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the peer sends until it closes (or the timeout, which rejects); its FIN is answered with ours. */
export function collect(socket: Socket, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms; got ${Buffer.concat(chunks).length} bytes`)), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.once('end', () => socket.end());
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.resume();
  });
}

/** Reads until `done(buffered)` says so; leaves the socket paused with nothing consumed beyond. */
export function readUntil(socket: Socket, done: (buf: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (done(buf)) finish();
    };
    const onClose = (): void => (done(buf) ? finish() : finish(new Error(`closed after ${buf.length} bytes: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`)));
    const timer = setTimeout(() => finish(new Error(`timed out after ${buf.length} bytes`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

/** Sends raw bytes on a fresh connection and returns all that comes back until the server closes. */
export async function exchange(path: string, data: string | Uint8Array, timeoutMs = 5000): Promise<Buffer> {
  const s = await connectUnix(path);
  const all = collect(s, timeoutMs);
  s.write(data);
  return all;
}

export interface TcpServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function listenTcp(onConnection: (s: Socket) => void, host = '127.0.0.1'): Promise<TcpServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen({ port: 0, host, backlog: 4096 }, r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A TCP echo server that also half-closes back when the client half-closes. */
export const echoServer = (host?: string): Promise<TcpServer> => listenTcp((s) => s.pipe(s), host);

/** A port on 127.0.0.1 that nothing listens on. */
export async function deadPort(): Promise<number> {
  const t = await listenTcp(() => undefined);
  await t.close();
  return t.port;
}

export function recorder(): { events: Violation[]; emit(v: Violation): void } {
  const events: Violation[] = [];
  return { events, emit: (v) => events.push(v) };
}

/** A started proxy on a fresh Unix socket in `dir`, with every rule defaulted to "nothing allowed". */
export async function startTestProxy<E extends object>(
  create: (options: ProxyOptions & Partial<E>) => ProxyServer,
  dir: string,
  rules: Partial<NetworkRules>,
  extra: Partial<E> = {},
): Promise<{ path: string; events: Violation[]; proxy: ProxyServer }> {
  const events = recorder();
  const path = join(dir, `proxy-${nextProxy++}.sock`);
  const proxy = create({
    listen: { path },
    rules: { allowedDomains: [], deniedDomains: [], allowLocalOutbound: false, ...rules },
    violations: events,
    ...extra,
  });
  await proxy.start();
  return { path, events: events.events, proxy };
}
let nextProxy = 0;
