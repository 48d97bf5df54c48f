import { SettingsSchema } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { inboundBridge, noProxyEnvironment, proxiesNeeded, proxyBridges, proxyEnvironment, refusalBridges } from '../src/network-plan.js';

const network = (over: object = {}) => SettingsSchema.parse({ network: over }).network;
const quiet = { monitor: false, debug: false, ports: [] as number[] };

describe('proxiesNeeded', () => {
  it('is false only when nothing could be allowed and nobody watches', () => {
    expect(proxiesNeeded(network(), quiet)).toBe(false);
    expect(proxiesNeeded(network({ allowedDomains: ['github.com'] }), quiet)).toBe(true);
    expect(proxiesNeeded(network(), { ...quiet, monitor: true })).toBe(true);
    expect(proxiesNeeded(network(), { ...quiet, debug: true })).toBe(true);
    expect(proxiesNeeded(network(), { ...quiet, ports: [8080] })).toBe(true);
  });
});

describe('proxyEnvironment', () => {
  it('points both cases of every proxy variable at the bridged ports', () => {
    expect(proxyEnvironment(network({ httpProxyPort: 3128, socksProxyPort: 1080 }))).toEqual({
      HTTP_PROXY: 'http://127.0.0.1:3128',
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      http_proxy: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      ALL_PROXY: 'socks5h://127.0.0.1:1080',
      all_proxy: 'socks5h://127.0.0.1:1080',
      NO_PROXY: 'localhost,127.0.0.1',
      no_proxy: 'localhost,127.0.0.1',
      NODE_USE_ENV_PROXY: '1',
      FENCE_SANDBOX: '1',
    });
  });

  it('leaves an allowed loopback name out of NO_PROXY: it means the host, reachable only through the proxies', () => {
    expect(proxyEnvironment(network({ allowedDomains: ['localhost'] })).NO_PROXY).toBe('127.0.0.1');
    expect(proxyEnvironment(network({ allowedDomains: ['localhost', '127.0.0.1'] })).no_proxy).toBe('');
  });

  it('refuses at once without a host proxy: a 403 naming the reason, and a SOCKS5 "not allowed"', () => {
    const [http, socks] = refusalBridges(network({ httpProxyPort: 3128, socksProxyPort: 1080 }));
    expect(http).toMatchObject({ kind: 'refuse', port: 3128 });
    expect(new TextDecoder().decode(http!.kind === 'refuse' ? http!.reply : undefined)).toMatch(
      /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\n\r\nConnection blocked by network allowlist: not in network\.allowedDomains \(this policy allows no domain\)\n$/,
    );
    expect(socks).toMatchObject({ kind: 'refuse', port: 1080, reply: new Uint8Array([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]) });
  });

  it('removes inherited proxy variables when the proxies do not run', () => {
    const env = noProxyEnvironment();
    expect(Object.keys(env)).toContain('https_proxy');
    expect(env.HTTP_PROXY).toBeUndefined();
    expect(env.FENCE_SANDBOX).toBe('1');
  });
});

describe('bridges', () => {
  it('bridges the proxy ports to the host sockets, and a -p port from its listening socket, by plan descriptor', () => {
    expect(proxyBridges(network({ httpProxyPort: 3000, socksProxyPort: 3001 }), 5, 6)).toEqual([
      { kind: 'tcp-to-unix', port: 3000, fd: 5 },
      { kind: 'tcp-to-unix', port: 3001, fd: 6 },
    ]);
    expect(inboundBridge(8080, 7)).toEqual({ kind: 'unix-to-tcp', fd: 7, port: 8080 });
  });
});
