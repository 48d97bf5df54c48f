import { describe, expect, it } from 'vitest';
import { closestKey, fieldPath, knownKeys } from '../../src/settings/issues.js';

describe('fieldPath', () => {
  it('writes dotted keys and bracketed indexes', () => {
    expect(fieldPath(['network', 'allowedDomains', 2])).toBe('network.allowedDomains[2]');
    expect(fieldPath(['filesystem', 'weird key'])).toBe('filesystem["weird key"]');
    expect(fieldPath([])).toBe('(top level)');
  });
});

describe('knownKeys', () => {
  it('lists the keys of a section through its default', () => {
    expect(knownKeys(['limits'])).toEqual(['memoryMB', 'processes', 'cpuSeconds', 'openFiles', 'wallSeconds']);
    expect(knownKeys([])).toContain('network');
  });
});

describe('closestKey', () => {
  it('suggests the nearest key for a typo and nothing for an unrelated word', () => {
    const keys = knownKeys(['network']);
    expect(closestKey('allowedDomian', keys)).toBe('allowedDomains');
    expect(closestKey('alloweddomains', keys)).toBe('allowedDomains');
    expect(closestKey('banana', keys)).toBeUndefined();
  });
});
