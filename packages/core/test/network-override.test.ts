import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FenceError } from '../src/errors.js';
import { overrideNetwork } from '../src/network-override.js';
import { loadPolicy } from '../src/settings/load.js';

const { policy } = loadPolicy({ cwd: tmpdir(), home: tmpdir(), env: {}, inline: { network: { allowedDomains: ['github.com'], deniedDomains: ['evil.com'], allowLocalOutbound: true } } });

describe('overrideNetwork', () => {
  it("replaces the allowlist, keeps the session's denials and every other setting", () => {
    const { policy: p } = overrideNetwork(policy, { allowedDomains: ['registry.npmjs.org'], deniedDomains: ['bad.org'] });
    expect(p.network).toEqual({ ...policy.network, allowedDomains: ['registry.npmjs.org'], deniedDomains: ['bad.org', 'evil.com'] });
    expect({ ...p, network: policy.network }).toEqual(policy);
  });

  it('names one allowlist by one key, whatever the order and repeats', () => {
    const a = overrideNetwork(policy, { allowedDomains: ['b.org', 'a.org', 'a.org'] });
    const b = overrideNetwork(policy, { allowedDomains: ['a.org', 'b.org'], deniedDomains: [] });
    expect(a.key).toBe(b.key);
    expect(overrideNetwork(policy, { allowedDomains: ['a.org'] }).key).not.toBe(a.key);
  });

  it('refuses a pattern the settings refuse, naming the option and the field', () => {
    let error: unknown;
    try {
      overrideNetwork(policy, { allowedDomains: ['*.com'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FenceError);
    expect(error).toMatchObject({ code: 'SETTINGS_INVALID', message: expect.stringMatching(/network option of run\(\)\/exec\(\)[\s\S]*allowedDomains\[0\]/) });
  });
});
