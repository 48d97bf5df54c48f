/**
 * The host side of the in-sandbox DNS stub (fence-launch's `dns` bridge): for each name the stub
 * asks (one line), the same domain decision the proxies make (deniedDomains, allowedDomains, the
 * forward to an upstream proxy) answers `allow` or `deny`, and each answer is an event. An allowed
 * name gets a capture address inside, so its connections come back to the HTTP proxy as
 * `CONNECT name:port`, where the address guard and the upstream's reachability are decided.
 */
import type { Socket } from 'node:net';
import { canonicalHost } from '@fence/core';
import { decideHost, type NetworkRules } from './filter.js';
import { SocketSet, trackedService, type ListenTarget, type ProxyServer } from './listener.js';
import type { ViolationSink } from './options.js';

export interface DnsDeciderOptions {
  readonly listen: ListenTarget;
  readonly rules: NetworkRules;
  readonly violations?: ViolationSink;
  readonly now?: () => number;
}

/** The stub's names are at most 255 bytes; a longer line is not the stub. */
const MAX_LINE = 256;

/** What the stub is told for one name, and why. */
export function dnsVerdict(name: string, rules: NetworkRules): { allowed: boolean; host: string; reason: string } {
  const host = canonicalHost(name);
  const d = decideHost(host, rules);
  if (d.allowed) return { allowed: true, host, reason: d.reason };
  if (d.code === 'not-allowed' && rules.defaultAction === 'proxy' && rules.upstreamProxy !== undefined) {
    return { allowed: true, host, reason: 'not in network.allowedDomains: forwarded to network.upstreamProxy' };
  }
  return { allowed: false, host, reason: d.reason };
}

export function createDnsDecider(options: DnsDeciderOptions): ProxyServer {
  const { createServer } = process.getBuiltinModule('node:net');
  const now = options.now ?? Date.now;
  const sockets = new SocketSet();
  const server = createServer((socket: Socket) => {
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const name = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const v = dnsVerdict(name, options.rules);
        options.violations?.emit({
          time: now(),
          source: 'dns',
          action: v.allowed ? 'allow' : 'block',
          target: v.host,
          process: '',
          pid: 0,
          reason: v.reason,
          detail: `${v.host} ${v.allowed ? 'capture address' : `NXDOMAIN (${v.reason})`}`,
        });
        socket.write(v.allowed ? 'allow\n' : 'deny\n');
      }
      if (buffered.length > MAX_LINE) socket.destroy();
    });
  });
  return trackedService('dns-decider', server, options.listen, sockets);
}
