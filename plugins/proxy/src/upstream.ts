/**
 * Going through network.upstreamProxy (defaultAction "proxy"): a tunnel is opened with the
 * upstream's own CONNECT, so HTTPS through the HTTP proxy and every SOCKS5 connection take the same
 * road; a plain HTTP request is sent to the upstream with its absolute URI instead (forward()).
 * The upstream is the user's choice: its address is not checked by the address guard (it is
 * usually mitmproxy on this machine's loopback); what it is asked to reach was.
 */
import type { Socket } from 'node:net';
import type { UpstreamProxy } from '@fence/core';
import { parseIp } from './address-guard.js';
import { systemResolver, type FilterDecision, type ResolvedAddress } from './filter.js';
import { formatTarget } from './options.js';
import { connectUpstream, describeError } from './tunnel.js';

type Allowed = Extract<FilterDecision, { allowed: true }>;

/** The upstream proxy's answer to CONNECT beyond this size is refused. */
const MAX_ANSWER = 64 * 1024;

/** Connects to the upstream proxy itself. */
export async function connectToUpstream(upstream: UpstreamProxy, timeoutMs: number): Promise<Socket> {
  const ip = parseIp(upstream.host);
  const addresses: readonly ResolvedAddress[] = ip ? [{ address: upstream.host, family: ip.length === 4 ? 4 : 6 }] : await systemResolver(upstream.host);
  return connectUpstream(addresses, upstream.port, timeoutMs);
}

const proxyError = (message: string): Error => Object.assign(new Error(message), { code: 'EPROXY' });

/** Reads the upstream's answer to CONNECT; resolves once it said 2xx, with any bytes after it put back. */
function readAnswer(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(proxyError('the upstream proxy did not answer CONNECT in time')), timeoutMs);
    const fail = (e: Error): void => {
      done();
      socket.destroy();
      reject(e);
    };
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', fail);
    };
    const onEnd = (): void => fail(proxyError('the upstream proxy closed the connection before answering CONNECT'));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_ANSWER) fail(proxyError('the upstream proxy\'s answer to CONNECT is too large'));
        return;
      }
      done();
      socket.pause();
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.[01] 2\d\d(?: |$)/.test(status)) {
        socket.destroy();
        return reject(proxyError(`the upstream proxy answered "${status}"`));
      }
      if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
      resolve();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', fail);
  });
}

/** A tunnel to `host:port` through the upstream proxy (its CONNECT answered 2xx). */
async function upstreamTunnel(upstream: UpstreamProxy, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = await connectToUpstream(upstream, timeoutMs);
  const authority = formatTarget(host, port);
  const auth = upstream.authorization ? `Proxy-Authorization: ${upstream.authorization}\r\n` : '';
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  await readAnswer(socket, timeoutMs);
  return socket;
}

/** A connected socket to what `d` allows: its addresses, or a tunnel through the upstream proxy. */
export function openTunnel(d: Allowed, timeoutMs: number): Promise<Socket> {
  return d.upstream ? upstreamTunnel(d.upstream, d.host, d.port, timeoutMs) : connectUpstream(d.addresses, d.port, timeoutMs);
}

/** ` through network.upstreamProxy http://…` for a forwarded decision, '' otherwise. */
export const through = (d: Allowed): string => (d.upstream ? ` through network.upstreamProxy ${d.upstream.display}` : '');

/** Why a tunnel could not be opened, for the 502 body, -m and --json. */
export const unreachable = (d: Allowed, e: unknown): string => `upstream unreachable${through(d)}: ${describeError(e)}`;
