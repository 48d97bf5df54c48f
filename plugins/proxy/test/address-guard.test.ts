import { describe, expect, it } from 'vitest';
import { classifyAddress, guardAddress, parseIp } from '../src/address-guard.js';

const closed = { allowedDomains: [] as string[], allowLocalOutbound: false };

describe('parseIp', () => {
  it('parses IPv4 and IPv6 literals, with brackets and zone ids', () => {
    expect(parseIp('10.1.2.3')).toEqual([10, 1, 2, 3]);
    expect(parseIp('::1')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIp('[::1]')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIp('fe80::1%eth0')?.slice(0, 2)).toEqual([0xfe, 0x80]);
    expect(parseIp('::ffff:127.0.0.1')?.slice(10)).toEqual([0xff, 0xff, 127, 0, 0, 1]);
    expect(parseIp('1:2:3:4:5:6:7:8')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  });

  it('rejects names and malformed literals', () => {
    for (const bad of ['example.com', '127.1', '010.0.0.1', '1.2.3.256', '1.2.3', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::', '', '0x7f.0.0.1', '::ffff:1.2.3']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['203.0.113.80', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4001::200e', 'public'],
    ['4000::1', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('says undefined for a host name', () => {
    expect(classifyAddress('localhost')).toBeUndefined();
  });
});

describe('guardAddress', () => {
  it('passes public addresses', () => {
    expect(guardAddress('93.184.216.34', closed).allowed).toBe(true);
    expect(guardAddress('2606:4700::1111', closed).allowed).toBe(true);
  });

  it('passes documentation, benchmarking and other special ranges that reach nothing local', () => {
    for (const ip of ['203.0.113.80', '192.0.2.1', '198.51.100.7', '198.18.0.1', '240.0.0.1', '2001:db8::1']) expect(guardAddress(ip, closed).allowed, ip).toBe(true);
  });

  it('blocks loopback, private, link-local and metadata addresses by default, saying how to allow them', () => {
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '192.168.0.1', 'fe80::1', 'fd00::1', '0.0.0.0', '::ffff:127.0.0.1']) {
      const v = guardAddress(ip, closed);
      expect(v.allowed, ip).toBe(false);
      if (!v.allowed) expect(v.reason).toContain('network.allowLocalOutbound');
    }
    expect(guardAddress('169.254.169.254', closed).allowed).toBe(false);
  });

  it('passes local addresses with allowLocalOutbound but never cloud metadata', () => {
    const open = { allowedDomains: [], allowLocalOutbound: true };
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '169.254.1.1', 'fd00::1']) expect(guardAddress(ip, open).allowed, ip).toBe(true);
    for (const ip of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '100.100.100.200']) {
      expect(guardAddress(ip, open).allowed, ip).toBe(false);
    }
  });

  it('passes an address listed verbatim in allowedDomains, also in its IPv4-mapped form', () => {
    const rules = { allowedDomains: ['10.0.0.5', '169.254.169.254'], allowLocalOutbound: false };
    expect(guardAddress('10.0.0.5', rules).allowed).toBe(true);
    expect(guardAddress('::ffff:10.0.0.5', rules).allowed).toBe(true);
    expect(guardAddress('169.254.169.254', rules).allowed).toBe(true);
    expect(guardAddress('10.0.0.6', rules).allowed).toBe(false);
  });

  it('does not let a wildcard pattern list an address', () => {
    expect(guardAddress('127.0.0.1', { allowedDomains: ['*.0.0.1'], allowLocalOutbound: false }).allowed).toBe(false);
  });

  it('refuses something that is not an address', () => {
    expect(guardAddress('example.com', closed).allowed).toBe(false);
  });
});
