/**
 * What the proxy layer adds to the launch plan, as pure data: whether the proxies are needed,
 * the Unix socket names in the runtime directory, the helper's bridges and the environment.
 */
import { decideDomain, type KernelOptions, type Policy } from '@fence/core';
import { CAPTURE_PORT, DNS_STUB, type Bridge } from '@fence/linux-helper';
import { BLOCKED_BODY, rawReply } from './http-message.js';
import { encodeReply, METHOD_NO_AUTH, Reply, SOCKS_VERSION } from './socks-protocol.js';

export const HTTP_SOCKET = 'http.sock';
export const SOCKS_SOCKET = 'socks.sock';
/** The host socket the in-sandbox DNS stub asks about each name (dns-decider.ts). */
export const DNS_SOCKET = 'dns.sock';
/** The host socket behind the sandbox's 127.0.0.1:port for network.allowLocalOutboundPorts. */
export const localOutboundSocket = (port: number): string => `out-${port}.sock`;
/** The socket the helper serves for `-p port` (inbound connections into the sandbox). */
export const inboundSocket = (port: number): string => `in-${port}.sock`;

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * Without an allowed domain (or an upstream for the others) nothing could pass the proxies, so they
 * only run when they can allow something, when their block decisions are wanted (-m, -d), or when -p needs the bridges anyway.
 */
export function proxiesNeeded(network: Policy['network'], options: Pick<KernelOptions, 'monitor' | 'debug' | 'ports'>): boolean {
  return network.allowedDomains.length > 0 || network.defaultAction === 'proxy' || options.monitor || options.debug || options.ports.length > 0;
}

/** The proxy variables pointing at the bridged ports inside the sandbox. */
export function proxyEnvironment(network: Policy['network']): Record<string, string> {
  const http = `http://127.0.0.1:${network.httpProxyPort}`;
  const socks = `socks5h://127.0.0.1:${network.socksProxyPort}`;
  // Loopback names bypass the proxies (the sandbox's own servers), unless the policy allows them:
  // then they mean the host's, reachable only through the proxies.
  const noProxy = ['localhost', '127.0.0.1'].filter((n) => decideDomain(n, network.allowedDomains, network.deniedDomains) !== 'allow').join(',');
  return {
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    http_proxy: http,
    https_proxy: http,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    // Node 24+ honours the variables above for fetch() and http only when told to.
    NODE_USE_ENV_PROXY: '1',
    FENCE_SANDBOX: '1',
  };
}

/** Removes proxy variables inherited from the host: they point at nothing reachable. */
export function noProxyEnvironment(): Record<string, string | undefined> {
  return { ...Object.fromEntries(PROXY_VARIABLES.map((v) => [v, undefined])), FENCE_SANDBOX: '1' };
}

/** Bridges for the two proxies (sandbox 127.0.0.1:port → the host sockets whose plan descriptors are given). */
export function proxyBridges(network: Policy['network'], httpFd: number, socksFd: number): Bridge[] {
  return [
    { kind: 'tcp-to-unix', port: network.httpProxyPort, fd: httpFd },
    { kind: 'tcp-to-unix', port: network.socksProxyPort, fd: socksFd },
  ];
}

/**
 * Whether programs that ignore the proxy variables are served too (the DNS stub and the captured
 * connections, SPEC §3): only when some name can pass. With nothing allowed there is nothing to
 * capture, and the sandbox keeps bwrap's own network namespace (no start-up cost).
 */
export function captureWanted(network: Policy['network']): boolean {
  return network.allowedDomains.length > 0 || (network.defaultAction === 'proxy' && network.upstreamProxy !== undefined);
}

/** The DNS stub (asking the host socket `dnsFd`) and the capture listener (to the HTTP proxy's socket `httpFd`). */
export function captureBridges(httpFd: number, dnsFd: number): Bridge[] {
  return [
    { kind: 'dns', port: DNS_STUB.port, fd: dnsFd },
    { kind: 'capture', port: CAPTURE_PORT, fd: httpFd },
  ];
}

/** The bridge for a host loopback port (sandbox 127.0.0.1:port → the host socket whose plan descriptor is `fd`). */
export function localOutboundBridge(port: number, fd: number): Bridge {
  return { kind: 'tcp-to-unix', port, fd };
}

/** The bridge for `-p port` (the listening host socket, plan descriptor `fd` → the sandbox's 127.0.0.1:port). */
export function inboundBridge(port: number, fd: number): Bridge {
  return { kind: 'unix-to-tcp', fd, port };
}

/** Why everything is refused when the policy allows no domain (the 403 body names it). */
export const NOTHING_ALLOWED = 'not in network.allowedDomains (this policy allows no domain)';

/**
 * Bridges that refuse at once, answered by the in-sandbox helper with no host proxy running: the
 * HTTP port answers 403 with the reason, the SOCKS port accepts the greeting and refuses the
 * request ("connection not allowed by ruleset"). Both replies are sent without waiting, as the
 * client reads each in turn.
 */
export function refusalBridges(network: Policy['network']): Bridge[] {
  const http = new TextEncoder().encode(rawReply(403, `${BLOCKED_BODY}: ${NOTHING_ALLOWED}\n`));
  const socks = new Uint8Array([SOCKS_VERSION, METHOD_NO_AUTH, ...encodeReply(Reply.NOT_ALLOWED)]);
  return [
    { kind: 'refuse', port: network.httpProxyPort, reply: http },
    { kind: 'refuse', port: network.socksProxyPort, reply: socks },
  ];
}
