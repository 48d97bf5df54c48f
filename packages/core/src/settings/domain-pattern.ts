/**
 * Domain patterns of `network.allowedDomains` / `deniedDomains`: an exact host name, or
 * `*.suffix` meaning any subdomain of suffix (never the apex). Pure: used by the schema for
 * validation and by the proxies for matching, so both agree on one definition.
 */

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** Why `pattern` is not a valid domain pattern, or undefined when it is valid. */
export function domainPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'empty domain; write a host name such as "example.com"';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pattern)) {
    return `"${pattern}" is a URL; write only the host name (e.g. "${pattern.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/:]/)[0]}")`;
  }
  if (pattern.includes('/')) return `"${pattern}" contains a path; write only the host name`;
  if (pattern.includes(':')) return `"${pattern}" contains a port; ports are not part of a domain pattern`;
  const name = pattern.endsWith('.') ? pattern.slice(0, -1) : pattern;
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

/** Lower-cased host without a trailing dot, for comparisons. */
export function canonicalHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
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
