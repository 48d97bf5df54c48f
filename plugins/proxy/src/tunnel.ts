/**
 * Socket plumbing shared by the proxies and the port forwarder: connecting to decided addresses,
 * joining two sockets without ever truncating a stream, handing a tunnel to the in-sandbox bridge,
 * and closing after a last reply.
 */
import { connect, type Socket } from 'node:net';
import type { ResolvedAddress } from './filter.js';

const MESSAGES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  EADDRNOTAVAIL: 'address not available',
};

export function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
}

/** A short human description of a connection error, e.g. `connection refused (ECONNREFUSED)`. */
export function describeError(e: unknown): string {
  const code = errnoCode(e);
  return `${MESSAGES[code] ?? (e instanceof Error ? e.message : String(e))} (${code})`;
}

function connectOne(a: ResolvedAddress, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: a.address, family: a.family, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

/** Connects to the first address that answers; rejects with the last error. */
export async function connectUpstream(addresses: readonly ResolvedAddress[], port: number, timeoutMs: number): Promise<Socket> {
  let last: unknown = new Error('no address to connect to');
  for (const a of addresses) {
    try {
      return await connectOne(a, port, timeoutMs);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const cleanlyClosed = (s: Socket): boolean => s.readableEnded && s.writableFinished;

/**
 * Joins two sockets (both created with allowHalfOpen). A FIN from one side becomes a FIN to the
 * other only after everything it sent has been written (pipe ends the destination after the
 * queued data), and the other direction keeps flowing until it ends too. An abrupt close or an
 * error on either side, or `idleTimeoutMs` without traffic, destroys both.
 */
export function splice(a: Socket, b: Socket, idleTimeoutMs: number): void {
  const both = (): void => {
    a.destroy();
    b.destroy();
  };
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.on('error', both);
    from.on('close', () => {
      if (!cleanlyClosed(from)) to.destroy();
    });
    if (idleTimeoutMs > 0) from.setTimeout(idleTimeoutMs, both);
    from.pipe(to);
  }
  if (a.destroyed || b.destroyed) both();
}

/** Sends `data` and a copy of the descriptor `passFd` over the Unix socket `unixFd` in one message; throws on failure. */
export type FdSender = (unixFd: number, passFd: number, data: Uint8Array) => void;

/**
 * Ends a handoff message: N, the number of bytes this proxy read from the Unix connection (uint64,
 * little-endian), then a marker byte. The bridge drops the trailer, forwards the bytes before it
 * (the reply) and writes the client bytes it sent past N (the proxy never saw them) to the upstream.
 */
function handoffTrailer(bytesRead: number): Buffer {
  const t = Buffer.alloc(9); // the marker is the last byte, 0
  t.writeBigUInt64LE(BigInt(bytesRead));
  return t;
}

/** The descriptor of a Node socket (-1 once it is closed). */
export const fdOf = (s: Socket): number => (s as Socket & { _handle?: { fd?: number } | null })._handle?.fd ?? -1;

/**
 * Hands a decided, connected tunnel to the bridge at the other end of `client` (fence-launch's):
 * one message carries the success reply, the trailer (the count of bytes read from the client, then
 * the marker) and the upstream socket, and the bridge relays client and upstream directly from then
 * on, with no idle timeout. Bytes the client sent that this proxy never read are re-sent by the
 * bridge from that count. Both Node sockets are closed. Returns false, with nothing sent, when a
 * byte is already buffered on either side (it would be lost) or the send fails (sendFd refuses
 * while the client has unread input); the caller then writes the reply and splices.
 */
export function handOff(client: Socket, upstream: Socket, reply: Uint8Array, send: FdSender): boolean {
  const clientFd = fdOf(client);
  const upstreamFd = fdOf(upstream);
  if (clientFd < 0 || upstreamFd < 0) return false;
  // Nothing buffered, so every byte read from the client (the request included) was used: N is bytesRead.
  if (client.readableLength > 0 || client.writableLength > 0 || upstream.readableLength > 0) return false;
  try {
    send(clientFd, upstreamFd, Buffer.concat([reply, handoffTrailer(client.bytesRead)]));
  } catch {
    return false;
  }
  client.destroy();
  upstream.destroy();
  return true;
}

/**
 * Ends a grant message (bridge.c): the decided authority and the Host value to send, their lengths
 * (uint16, little-endian), N = 0 (the request starts the Unix connection), then the marker 1.
 */
function grantTrailer(authority: string, host: string): Buffer {
  const a = Buffer.from(authority, 'latin1');
  const h = Buffer.from(host, 'latin1');
  const t = Buffer.alloc(13);
  t.writeUInt16LE(a.length, 0);
  t.writeUInt16LE(h.length, 2);
  t[12] = 1; // N (bytes 4–11) stays 0
  return Buffer.concat([a, h, t]);
}

/**
 * Grants the bridge at the other end of `client` the plain-HTTP requests for `authority`: it gets
 * the upstream socket connected for the request this proxy decided, which is the first on `client`,
 * and forwards that request (re-sent from its start: N = 0) and every later one for the same
 * authority itself; any other it gives back on a new connection (bridge.c). Both Node sockets are
 * closed. Returns false, with nothing sent, when this proxy has written to the client or read from
 * the upstream, or the send fails (e.g. the client has unread input); the caller relays instead.
 */
export function grant(client: Socket, upstream: Socket, authority: string, host: string, send: FdSender): boolean {
  const clientFd = fdOf(client);
  const upstreamFd = fdOf(upstream);
  if (clientFd < 0 || upstreamFd < 0 || client.bytesWritten > 0 || client.writableLength > 0 || upstream.bytesRead > 0) return false;
  try {
    send(clientFd, upstreamFd, grantTrailer(authority, host));
  } catch {
    return false;
  }
  client.destroy();
  upstream.destroy();
  return true;
}

/** Writes a last reply, then closes (a stream socket keeps what was written for its reader). */
export function closeAfter(socket: Socket, reply: string | Uint8Array): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(reply, () => socket.destroy());
}
