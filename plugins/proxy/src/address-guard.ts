/**
 * Which IP addresses the proxies may connect to. An allowed name that resolves to the machine
 * itself, the local network or a cloud metadata service is the DNS-rebinding attack of SPEC §3,
 * so every resolved address passes through guardAddress() before a connection is made. Pure.
 */
import { domainMatches } from '@fence/core';

/**
 * `reserved`: special-purpose but not local (documentation, benchmarking, class E, unassigned
 * IPv6): it reaches nothing of this machine or its networks, so the guard lets it pass (SPEC §3;
 * some networks even resolve public registries into documentation ranges).
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'metadata'
  | 'reserved';

type Range = readonly [prefix: readonly number[], bits: number, cls: AddressClass | 'embedded-v4'];

// Most specific first: the first match wins.
const V4_RANGES: readonly Range[] = [
  [[169, 254, 169, 254], 32, 'metadata'], // AWS, GCP, Azure, OCI, DigitalOcean
  [[169, 254, 170, 2], 32, 'metadata'], // AWS ECS task metadata
  [[100, 100, 100, 200], 32, 'metadata'], // Alibaba Cloud
  [[168, 63, 129, 16], 32, 'metadata'], // Azure WireServer: a public-looking address
  [[192, 0, 0, 192], 32, 'metadata'], // Oracle Cloud (legacy)
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[0, 0, 0, 0], 32, 'unspecified'], // connect(0.0.0.0) reaches the local host on Linux
  [[0], 8, 'unspecified'], // "this network": 0.x.y.z reaches the local host too
  [[10], 8, 'private'],
  [[100, 64], 10, 'private'], // carrier-grade NAT
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local'],
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'],
  [[192, 0, 2], 24, 'reserved'],
  [[192, 88, 99], 24, 'reserved'],
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'reserved'],
  [[198, 51, 100], 24, 'reserved'],
  [[203, 0, 113], 24, 'reserved'],
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'],
];

const V6_RANGES: readonly Range[] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 128, 'unspecified'],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 'embedded-v4'], // IPv4-mapped
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 96, 'embedded-v4'], // IPv4-compatible (deprecated)
  [[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, 'embedded-v4'], // NAT64
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, 'private'], // local-use NAT64
  [[0x20, 0x02], 16, 'embedded-v4'], // 6to4
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // discard-only
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'reserved'], // documentation
  [[0x20, 0x01, 0, 0], 32, 'reserved'], // Teredo
  [[0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54], 128, 'metadata'], // AWS fd00:ec2::254
  [[0xfc], 7, 'private'], // unique local
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'private'], // site-local (deprecated)
  [[0xff], 8, 'multicast'],
  [[0x20], 3, 'public'], // global unicast; everything else is unassigned
];

const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => V4_OCTET.test(p))) return undefined;
  return parts.map(Number);
}

function parseIPv6(text: string): number[] | undefined {
  let rest = text;
  let tail: number[] = [];
  const lastColon = rest.lastIndexOf(':');
  if (rest.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(rest.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    rest = `${rest.slice(0, lastColon + 1)}0:0`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.some((g) => g.some((x) => !/^[0-9a-f]{1,4}$/i.test(x)))) return undefined;
  const count = groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const words = [...groups[0]!, ...Array<string>(8 - count).fill('0'), ...(groups[1] ?? [])].map((x) => parseInt(x, 16));
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The bytes of an IP literal (4 or 16), or undefined when `text` is not one. Brackets and a zone id are ignored. */
export function parseIp(text: string): number[] | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%[^%]*$/, '');
  return bare.includes(':') ? parseIPv6(bare) : parseIPv4(bare);
}

function inRange(bytes: readonly number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function embeddedV4(bytes: readonly number[]): number[] {
  // 6to4 carries the IPv4 address in bytes 2..5; the other forms in the last four bytes.
  return bytes[0] === 0x20 && bytes[1] === 0x02 ? bytes.slice(2, 6) : bytes.slice(12, 16);
}

function classifyBytes(bytes: readonly number[]): AddressClass {
  const ranges = bytes.length === 4 ? V4_RANGES : V6_RANGES;
  const hit = ranges.find((r) => inRange(bytes, r));
  if (!hit) return bytes.length === 4 ? 'public' : 'reserved';
  return hit[2] === 'embedded-v4' ? classifyBytes(embeddedV4(bytes)) : hit[2];
}

/** What kind of address `ip` is, or undefined when it is not an IP literal. */
export function classifyAddress(ip: string): AddressClass | undefined {
  const bytes = parseIp(ip);
  return bytes && classifyBytes(bytes);
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4Text(bytes: readonly number[]): string | undefined {
  if (bytes.length !== 16 || classifyBytes(bytes) === 'loopback' || classifyBytes(bytes) === 'unspecified') return undefined;
  const hit = V6_RANGES.find((r) => inRange(bytes, r));
  return hit?.[2] === 'embedded-v4' ? embeddedV4(bytes).join('.') : undefined;
}

export interface AddressRules {
  readonly allowedDomains: readonly string[];
  readonly allowLocalOutbound: boolean;
}

export type AddressVerdict =
  | { readonly allowed: true; readonly class: AddressClass }
  | { readonly allowed: false; readonly class: AddressClass; readonly reason: string };

/** Whether an address is listed verbatim (never through a wildcard) in allowedDomains. */
function listedLiterally(ip: string, bytes: readonly number[], allowed: readonly string[]): boolean {
  const forms = [ip.replace(/%[^%]*$/, ''), embeddedV4Text(bytes)].filter((f): f is string => f !== undefined);
  return allowed.some((p) => !p.startsWith('*.') && forms.some((f) => domainMatches(p, f)));
}

/**
 * Whether the proxies may connect to `ip`. Public addresses pass. Loopback, private, link-local
 * and the other non-public classes pass only with allowLocalOutbound; cloud metadata endpoints
 * never pass through that switch (it is meant for local dev servers, not credentials). Any
 * address passes when it is itself listed in allowedDomains.
 */
export function guardAddress(ip: string, rules: AddressRules): AddressVerdict {
  const bytes = parseIp(ip);
  if (!bytes) return { allowed: false, class: 'reserved', reason: `"${ip}" is not an IP address` };
  const cls = classifyBytes(bytes);
  if (cls === 'public' || cls === 'reserved' || listedLiterally(ip, bytes, rules.allowedDomains)) return { allowed: true, class: cls };
  if (cls === 'metadata') {
    const how = bytes.length === 4 ? `list "${ip}" in network.allowedDomains to reach it` : 'it cannot be allowed';
    return { allowed: false, class: cls, reason: `a cloud metadata address (${ip}; ${how})` };
  }
  if (rules.allowLocalOutbound) return { allowed: true, class: cls };
  return { allowed: false, class: cls, reason: `a ${cls} address (${ip}; set network.allowLocalOutbound to reach it)` };
}
