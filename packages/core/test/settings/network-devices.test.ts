import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FenceError } from '../../src/errors.js';
import { loadPolicy, type LoadOptions } from '../../src/settings/load.js';
import { parseUpstreamProxy } from '../../src/settings/upstream-proxy.js';
import type { SettingsInput } from '../../src/settings/schema.js';
import { removeTrees, tempTree } from '../temp-tree.js';

afterEach(removeTrees);

function opts(): LoadOptions {
  const root = tempTree({ 'home/': '', 'work/': '' });
  return { cwd: path.join(root, 'work'), home: path.join(root, 'home'), env: {} };
}

function load(inline: SettingsInput) {
  return loadPolicy({ ...opts(), inline }).policy;
}

function message(inline: SettingsInput): string {
  try {
    loadPolicy({ ...opts(), inline });
  } catch (e) {
    if (e instanceof FenceError) return e.message;
    throw e;
  }
  throw new Error('expected loadPolicy to fail');
}

describe('network.allowLocalOutboundPorts', () => {
  it('defaults to none', () => {
    expect(load({}).network.allowLocalOutboundPorts).toEqual([]);
  });

  it('is kept with allowLocalOutbound', () => {
    expect(load({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [5432, 6379] } }).network.allowLocalOutboundPorts).toEqual([5432, 6379]);
  });

  it('needs allowLocalOutbound, and says so', () => {
    expect(message({ network: { allowLocalOutboundPorts: [5432] } })).toContain('network.allowLocalOutboundPorts: needs "allowLocalOutbound": true');
  });

  it('refuses a proxy port and a port out of range, naming the element', () => {
    expect(message({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [3128] } })).toContain('network.allowLocalOutboundPorts: 3128 is a proxy port');
    expect(message({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [80, 0] } })).toContain('network.allowLocalOutboundPorts[1]: must be 1..65535');
  });
});

describe('the capture listener port (15001 inside the sandbox on Linux)', () => {
  // Taken by a proxy or local-outbound port, the helper's listener failed to bind and nothing ran
  // ("fence-launch: bridge: listen on 127.0.0.1:15001: Address already in use").
  it('is refused as a proxy port or a local-outbound port, naming the field', () => {
    expect(message({ network: { httpProxyPort: 15001 } })).toContain("network.httpProxyPort: 15001 is the capture listener's port inside the sandbox");
    expect(message({ network: { socksProxyPort: 15001 } })).toContain("network.socksProxyPort: 15001 is the capture listener's port inside the sandbox");
    expect(message({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [15001] } })).toContain("network.allowLocalOutboundPorts: 15001 is the capture listener's port");
  });
});

describe('network.defaultAction and network.upstreamProxy', () => {
  it('default to deny and no upstream', () => {
    const { network } = load({});
    expect(network.defaultAction).toBe('deny');
    expect(network.upstreamProxy).toBeUndefined();
  });

  it('take an http:// upstream with "proxy"', () => {
    expect(load({ network: { defaultAction: 'proxy', upstreamProxy: 'http://127.0.0.1:8080' } }).network.upstreamProxy).toBe('http://127.0.0.1:8080');
  });

  it('refuse "proxy" without an upstream, and an upstream without "proxy"', () => {
    expect(message({ network: { defaultAction: 'proxy' } })).toContain('network.defaultAction: "proxy" needs network.upstreamProxy');
    expect(message({ network: { upstreamProxy: 'http://127.0.0.1:8080' } })).toContain('network.upstreamProxy: is used only with "defaultAction": "proxy"');
  });

  it.each([
    ['https://proxy.example:8443', '"https:" is not supported'],
    ['socks5://127.0.0.1:1080', '"socks5:" is not supported'],
    ['127.0.0.1:8080', 'is not a URL'],
    ['proxy', 'is not a URL'],
    ['http://proxy.example:8080/path', 'has a path'],
  ])('refuses %s', (value, why) => {
    expect(message({ network: { defaultAction: 'proxy', upstreamProxy: value } })).toContain(`network.upstreamProxy: `);
    expect(message({ network: { defaultAction: 'proxy', upstreamProxy: value } })).toContain(why);
  });

  it('parses host, port, credentials, and hides the password in its display form', () => {
    expect(parseUpstreamProxy('http://[::1]:8080')).toEqual({ host: '::1', port: 8080, display: 'http://[::1]:8080' });
    expect(parseUpstreamProxy('http://proxy.example')).toMatchObject({ host: 'proxy.example', port: 80 });
    const withUser = parseUpstreamProxy('http://me:s%40cret@proxy.example:3128');
    expect(withUser.authorization).toBe(`Basic ${Buffer.from('me:s@cret').toString('base64')}`);
    expect(withUser.display).toBe('http://me:***@proxy.example:3128');
  });
});

describe('devices', () => {
  it('default to auto with no passthrough', () => {
    expect(load({}).devices).toEqual({ mode: 'auto', allow: [] });
  });

  it.each([
    ['/dev', 'must be a path under /dev/'],
    ['/etc/passwd', 'must be a path under /dev/'],
    ['dev/fuse', 'must be a path under /dev/'],
    ['/dev/../etc/shadow', 'cannot contain ".."'],
  ])('refuses %s, naming the element', (entry, why) => {
    expect(message({ devices: { allow: ['/dev/null', entry] } })).toContain(`devices.allow[1]: ${why}`);
  });

  it('keeps the entries as written: what exists there is the sandbox layer\'s to check', () => {
    expect(load({ devices: { allow: ['/dev/fence-no-such-device'] } }).devices.allow).toEqual(['/dev/fence-no-such-device']);
  });

  it('refuses an unknown mode', () => {
    expect(message({ devices: { mode: 'all' as 'host' } })).toContain('devices.mode');
  });
});
