import { describe, expect, it } from 'vitest';
import { decideHost, filterTarget, isPolicyBlock, systemResolver, type NetworkRules, type Resolver } from '../src/filter.js';

const rules = (over: Partial<NetworkRules> = {}): NetworkRules => ({
  allowedDomains: [],
  deniedDomains: [],
  allowLocalOutbound: false,
  ...over,
});

const fakeDns =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const addrs = table[host];
    if (!addrs) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const dns = fakeDns({
  'example.com': ['93.184.216.34', '2606:2800:220:1::1'],
  'api.example.com': ['93.184.216.35'],
  'evil.example.com': ['93.184.216.36'],
  'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
  'internal.example.com': ['10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  'empty.example.com': [],
});

describe('decideHost', () => {
  it('lets a denied match win over an allowed one', () => {
    const r = rules({ allowedDomains: ['*.example.com'], deniedDomains: ['evil.example.com'] });
    expect(decideHost('evil.example.com', r)).toMatchObject({ allowed: false, code: 'denied' });
    expect(decideHost('api.example.com', r)).toMatchObject({ allowed: true });
  });

  it('matches wildcards on subdomains only, case-insensitively, ignoring a trailing dot', () => {
    const r = rules({ allowedDomains: ['*.example.com'] });
    expect(decideHost('a.b.example.com', r).allowed).toBe(true);
    expect(decideHost('API.Example.COM.', r).allowed).toBe(true);
    expect(decideHost('example.com', r).allowed).toBe(false);
    expect(decideHost('badexample.com', r).allowed).toBe(false);
  });

  it('allows an IP literal only when listed verbatim', () => {
    expect(decideHost('10.0.0.1', rules({ allowedDomains: ['10.0.0.1'] })).allowed).toBe(true);
    expect(decideHost('127.0.0.1', rules({ allowedDomains: ['*.0.0.1'] })).allowed).toBe(false);
  });
});

describe('filterTarget', () => {
  it('allows a listed name and returns every address it resolved to', async () => {
    const d = await filterTarget('example.com', 443, rules({ allowedDomains: ['example.com'] }), dns);
    expect(d).toMatchObject({ allowed: true, host: 'example.com', port: 443 });
    if (d.allowed) expect(d.addresses.map((a) => a.address)).toEqual(['93.184.216.34', '2606:2800:220:1::1']);
  });

  it('blocks an unlisted name without resolving it', async () => {
    let asked = false;
    const d = await filterTarget('example.org', 443, rules({ allowedDomains: ['example.com'] }), async () => {
      asked = true;
      return [];
    });
    expect(d).toMatchObject({ allowed: false, code: 'not-allowed' });
    expect(isPolicyBlock(d)).toBe(true);
    expect(asked).toBe(false);
  });

  it('blocks a denied name', async () => {
    const r = rules({ allowedDomains: ['*.example.com'], deniedDomains: ['evil.example.com'] });
    expect(await filterTarget('evil.example.com', 443, r, dns)).toMatchObject({ allowed: false, code: 'denied' });
  });

  it('blocks an allowed name when any of its addresses is local (rebinding)', async () => {
    const r = rules({ allowedDomains: ['*.example.com'] });
    for (const host of ['rebind.example.com', 'internal.example.com', 'metadata.example.com']) {
      const d = await filterTarget(host, 443, r, dns);
      expect(d, host).toMatchObject({ allowed: false, code: 'local-address' });
      if (!d.allowed) expect(d.reason).toContain(`${host} resolves to`);
    }
  });

  it('lets allowLocalOutbound through to local addresses but not to metadata', async () => {
    const r = rules({ allowedDomains: ['*.example.com'], allowLocalOutbound: true });
    expect((await filterTarget('internal.example.com', 80, r, dns)).allowed).toBe(true);
    expect((await filterTarget('metadata.example.com', 80, r, dns)).allowed).toBe(false);
  });

  it('reports an unresolvable allowed name as unresolved, not as a policy block', async () => {
    const r = rules({ allowedDomains: ['*.example.com'] });
    for (const host of ['nowhere.example.com', 'empty.example.com']) {
      const d = await filterTarget(host, 443, r, dns);
      expect(d).toMatchObject({ allowed: false, code: 'unresolved' });
      expect(isPolicyBlock(d)).toBe(false);
    }
  });

  it('treats IP literals without DNS and guards them', async () => {
    const none: Resolver = async () => {
      throw new Error('must not resolve');
    };
    expect(await filterTarget('127.0.0.1', 80, rules({ allowedDomains: ['127.0.0.1'] }), none)).toMatchObject({ allowed: true });
    expect(await filterTarget('[::1]', 80, rules(), none)).toMatchObject({ allowed: false, host: '::1', code: 'not-allowed' });
  });

  it('refuses a port outside 1..65535', async () => {
    expect(await filterTarget('example.com', 0, rules({ allowedDomains: ['example.com'] }), dns)).toMatchObject({ code: 'bad-target' });
    expect(await filterTarget('example.com', 65536, rules({ allowedDomains: ['example.com'] }), dns)).toMatchObject({ code: 'bad-target' });
  });

  it('resolves with the system resolver: localhost is loopback and blocked without allowLocalOutbound', async () => {
    const addrs = await systemResolver('localhost');
    expect(addrs.length).toBeGreaterThan(0);
    expect(await filterTarget('localhost', 80, rules({ allowedDomains: ['localhost'] }))).toMatchObject({ allowed: false, code: 'local-address' });
    expect(await filterTarget('localhost', 80, rules({ allowedDomains: ['localhost'], allowLocalOutbound: true }))).toMatchObject({ allowed: true });
  });
});

describe('filterTarget with defaultAction "proxy"', () => {
  const grey = rules({ allowedDomains: ['api.example.com'], deniedDomains: ['evil.example.com'], defaultAction: 'proxy', upstreamProxy: 'http://127.0.0.1:8080' });

  it('forwards a name no list decides to the upstream, and one the host cannot resolve too (the upstream resolves it)', async () => {
    for (const host of ['example.com', 'unknown.example.org']) {
      const d = await filterTarget(host, 443, grey, dns);
      expect(d).toMatchObject({ allowed: true, addresses: [], upstream: { host: '127.0.0.1', port: 8080 }, reason: 'not in network.allowedDomains: forwarded to network.upstreamProxy' });
    }
  });

  it('never forwards a denied name, and lets an allowed one go direct', async () => {
    expect(await filterTarget('evil.example.com', 443, grey, dns)).toMatchObject({ allowed: false, code: 'denied' });
    const allowed = await filterTarget('api.example.com', 443, grey, dns);
    expect(allowed).toMatchObject({ allowed: true, addresses: [{ address: '93.184.216.35', family: 4 }] });
    expect(allowed.allowed && allowed.upstream).toBeUndefined();
  });

  it('keeps the address guard for forwarded names: loopback, private and metadata targets are blocked', async () => {
    for (const host of ['127.0.0.1', 'rebind.example.com', 'internal.example.com', 'metadata.example.com', '[::1]']) {
      expect(await filterTarget(host, 80, grey, dns)).toMatchObject({ allowed: false, code: 'local-address' });
    }
  });

  it('blocks what no list decides with defaultAction "deny" (the default)', async () => {
    expect(await filterTarget('example.com', 443, { ...grey, defaultAction: 'deny' }, dns)).toMatchObject({ allowed: false, code: 'not-allowed' });
  });
});
