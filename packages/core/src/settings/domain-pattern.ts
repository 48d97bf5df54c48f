/**
 * Domain patterns of `network.allowedDomains` / `deniedDomains`: an exact host name, an IP literal
 * (IPv6 too), or `*.suffix` meaning any subdomain of suffix (never the apex). Pure: used by the
 * schema for validation and by the proxies for matching, so both agree on one definition. Names
 * are compared in one canonical form (IDNA to ASCII, lower case, no trailing dot, IP literals
 * normalised), the form the proxies also resolve: a soft hyphen or full-width letters cannot make
 * a name look different to the filter than to DNS.
 */
import { domainToASCII } from 'node:url';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** Why `pattern` is not a valid domain pattern, or undefined when it is valid. */
export function domainPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'empty domain; write a host name such as "example.com"';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pattern)) {
    return `"${pattern}" is a URL; write only the host name (e.g. "${pattern.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/:]/)[0]}")`;
  }
  if (pattern.includes('/')) return `"${pattern}" contains a path; write only the host name`;
  if (pattern.includes(':')) {
    if (ipv6Literal(pattern) !== undefined) return undefined;
    return `"${pattern}" contains a port; ports are not part of a domain pattern`;
  }
  const written = pattern.endsWith('.') ? pattern.slice(0, -1) : pattern;
  const name = written.startsWith('*.') ? `*.${domainToASCII(written.slice(2)) || written.slice(2)}` : domainToASCII(written) || written;
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (rest.includes('*')) {
    return `"${pattern}": a wildcard is only allowed as a leading "*." (e.g. "*.example.com")`;
  }
  if (rest.length === 0) return `"${pattern}": a bare wildcard would allow every domain; list the domains`;
  const labels = rest.split('.');
  if (labels.some((l) => l.length === 0)) return `"${pattern}": empty label (leading, trailing or double dot)`;
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) return `"${pattern}": "${bad}" is not a valid domain label`;
  if (wildcard && labels.length < 2) {
    return `"${pattern}" would match a whole top-level domain; use at least "*.example.${labels[0]}"`;
  }
  if (rest.length > 253) return `"${pattern}" is longer than 253 characters`;
  return undefined;
}

/** The normalised form of an IPv6 literal (brackets optional), or undefined when it is not one. */
function ipv6Literal(text: string): string | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  if (!/^[0-9a-f:.]+$/i.test(bare)) return undefined;
  try {
    return new URL(`http://[${bare}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The canonical form of a host for comparisons (see the file comment); `*.` is kept. */
export function canonicalHost(host: string): string {
  const v6 = host.includes(':') ? ipv6Literal(host) : undefined;
  if (v6 !== undefined) return v6;
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  if (h.startsWith('*.')) return `*.${domainToASCII(h.slice(2)) || h.slice(2).toLowerCase()}`;
  return domainToASCII(h) || h.toLowerCase();
}

/** Whether `host` matches `pattern` (case-insensitive, trailing dot ignored, `*.x` = subdomains only). */
export function domainMatches(pattern: string, host: string): boolean {
  const p = canonicalHost(pattern);
  const h = canonicalHost(host);
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}

export type DomainDecision = 'allow' | 'deny-listed' | 'not-allowed';

/** The network filter of SPEC §3: a denied match blocks, an allowed match allows, else block. */
export function decideDomain(host: string, allowed: readonly string[], denied: readonly string[]): DomainDecision {
  if (denied.some((p) => domainMatches(p, host))) return 'deny-listed';
  if (allowed.some((p) => domainMatches(p, host))) return 'allow';
  return 'not-allowed';
}
