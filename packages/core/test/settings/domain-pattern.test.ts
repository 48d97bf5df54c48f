import { describe, expect, it } from 'vitest';
import { canonicalHost, decideDomain, domainMatches, domainPatternProblem } from '../../src/settings/domain-pattern.js';
import { loadPolicy } from '../../src/settings/load.js';
import { FenceError } from '../../src/errors.js';

const VALID = ['example.com', '*.example.com', '*.api.example.com', 'localhost'];
const INVALID = ['https://x.com', 'x.com/path', 'x.com:443', '*.com', 'example.*.com', '.x.com', 'x.com.*', '*', ''];

function loadError(allowedDomains: string[]): FenceError {
  try {
    loadPolicy({ cwd: '/', home: '/nonexistent-home', env: {}, inline: { network: { allowedDomains } } });
  } catch (e) {
    return e as FenceError;
  }
  throw new Error('expected the settings to be refused');
}

describe('domainPatternProblem', () => {
  it.each(VALID)('accepts %j', (pattern) => {
    expect(domainPatternProblem(pattern)).toBeUndefined();
  });

  it.each(INVALID)('rejects %j', (pattern) => {
    expect(domainPatternProblem(pattern)).toEqual(expect.any(String));
  });

  it('names the field path of every invalid pattern in a settings error', () => {
    const error = loadError(['ok.example.com', ...INVALID]);
    expect(error.code).toBe('SETTINGS_INVALID');
    expect(error.message).toMatch(/^inline settings: invalid settings:\n/);
    INVALID.forEach((_, i) => expect(error.message).toContain(`\n  network.allowedDomains[${i + 1}]: `));
    expect(error.message).not.toContain('network.allowedDomains[0]');
  });

  it('explains a top-level-domain wildcard', () => {
    expect(loadError(['*.com']).message).toContain('network.allowedDomains[0]: "*.com" would match a whole top-level domain');
  });
});

describe('domainMatches', () => {
  it('is case-insensitive', () => {
    expect(domainMatches('Example.COM', 'example.com')).toBe(true);
    expect(domainMatches('example.com', 'EXAMPLE.com')).toBe(true);
  });

  it('matches any depth of subdomain but not the apex for *.x.com', () => {
    expect(domainMatches('*.x.com', 'a.x.com')).toBe(true);
    expect(domainMatches('*.x.com', 'a.b.x.com')).toBe(true);
    expect(domainMatches('*.x.com', 'x.com')).toBe(false);
    expect(domainMatches('*.x.com', 'evilx.com')).toBe(false);
  });

  it('ignores a trailing dot on either side', () => {
    expect(domainMatches('example.com', 'example.com.')).toBe(true);
    expect(domainMatches('example.com.', 'example.com')).toBe(true);
    expect(domainMatches('*.example.com', 'a.example.com.')).toBe(true);
  });

  it('matches an exact name only exactly', () => {
    expect(domainMatches('example.com', 'a.example.com')).toBe(false);
    expect(domainMatches('example.com', 'example.com.evil.net')).toBe(false);
  });
});

describe('decideDomain', () => {
  it('lets a denied match win over an allowed one', () => {
    expect(decideDomain('a.example.com', ['*.example.com'], ['a.example.com'])).toBe('deny-listed');
    expect(decideDomain('b.example.com', ['*.example.com'], ['a.example.com'])).toBe('allow');
  });

  it('blocks everything when the allow list is empty', () => {
    expect(decideDomain('example.com', [], [])).toBe('not-allowed');
  });
});

describe('canonical names', () => {
  it('maps what DNS would map (IDNA): a soft hyphen, full-width letters, Unicode, upper case', () => {
    expect(canonicalHost('ex\u00ADample.com')).toBe('example.com');
    expect(canonicalHost('ｅｘａｍｐｌｅ.com')).toBe('example.com');
    expect(canonicalHost('Bücher.DE.')).toBe('xn--bcher-kva.de');
    expect(decideDomain('ex\u00ADample.com', [], ['example.com'])).toBe('deny-listed');
    expect(domainMatches('bücher.de', 'xn--bcher-kva.de')).toBe(true);
  });

  it('accepts IPv6 literals, with or without brackets, and compares them normalised', () => {
    expect(domainPatternProblem('::1')).toBeUndefined();
    expect(domainPatternProblem('[2001:db8::1]')).toBeUndefined();
    expect(domainMatches('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(domainMatches('[2001:DB8::1]', '2001:db8:0::1')).toBe(true);
    expect(domainPatternProblem('example.com:443')).toMatch(/contains a port/);
  });

  it('accepts an internationalised name as its ASCII form', () => {
    expect(domainPatternProblem('bücher.de')).toBeUndefined();
    expect(domainPatternProblem('*.bücher.de')).toBeUndefined();
  });
});
