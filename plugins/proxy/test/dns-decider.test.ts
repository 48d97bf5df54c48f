import { describe, expect, it } from 'vitest';
import { dnsVerdict } from '../src/dns-decider.js';

const rules = { allowedDomains: ['*.example.com', 'api.test'], deniedDomains: ['bad.example.com'], allowLocalOutbound: false };

describe('dnsVerdict', () => {
  it('allows what the allowlist allows, canonicalised as the proxies compare names', () => {
    expect(dnsVerdict('API.test', rules)).toEqual({ allowed: true, host: 'api.test', reason: 'allowed by network.allowedDomains' });
    expect(dnsVerdict('www.example.com', rules).allowed).toBe(true);
  });

  it('refuses a denied name and one no list allows, with the reason the proxies give', () => {
    expect(dnsVerdict('bad.example.com', rules)).toEqual({ allowed: false, host: 'bad.example.com', reason: 'denied by network.deniedDomains' });
    expect(dnsVerdict('example.com', rules)).toEqual({ allowed: false, host: 'example.com', reason: 'not in network.allowedDomains' });
  });

  it('allows a name no list decides under defaultAction "proxy", never a denied one', () => {
    const forward = { ...rules, defaultAction: 'proxy' as const, upstreamProxy: 'http://127.0.0.1:3128' };
    expect(dnsVerdict('other.org', forward)).toMatchObject({ allowed: true, reason: 'not in network.allowedDomains: forwarded to network.upstreamProxy' });
    expect(dnsVerdict('bad.example.com', forward).allowed).toBe(false);
  });
});
