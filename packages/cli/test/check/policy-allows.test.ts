import { describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadPolicy } from '@fence/core';
import { proxyAllows, unixSocketAllowed, writeAllowed } from '../../src/check/policy-allows.js';

const policyOf = (inline: object) => loadPolicy({ cwd: realpathSync(tmpdir()), home: '/home/u', env: {}, inline }).policy;

describe('what the policy allows, for fence check', () => {
  it('allows a write under an allowWrite path or glob, unless denyWrite covers it', () => {
    const policy = policyOf({ filesystem: { allowWrite: ['/var/tmp', '/srv/*/out'], denyWrite: ['/var/tmp/ro'] } });
    expect(writeAllowed(policy, '/var/tmp/x/pwned')).toBe('filesystem.allowWrite has "/var/tmp"');
    expect(writeAllowed(policy, '/srv/a/out/pwned')).toBe('filesystem.allowWrite has "/srv/*/out"');
    expect(writeAllowed(policy, '/var/tmp/ro/pwned')).toBeUndefined();
    expect(writeAllowed(policy, '/etc/pwned')).toBeUndefined();
  });

  it('allows a Unix socket that is listed, or all of them', () => {
    expect(unixSocketAllowed(policyOf({ network: { allowAllUnixSockets: true } }), '/x.sock')).toBe('network.allowAllUnixSockets is set');
    expect(unixSocketAllowed(policyOf({ network: { allowUnixSockets: ['/run/x.sock'] } }), '/run/x.sock')).toBe('network.allowUnixSockets has "/run/x.sock"');
    expect(unixSocketAllowed(policyOf({}), '/run/x.sock')).toBeUndefined();
  });

  it("asks the proxies' own filter: the loopback destination is refused unless listed", async () => {
    expect(await proxyAllows(policyOf({ network: { allowedDomains: ['example.com'] } }), '127.0.0.1', 80)).toBeUndefined();
    expect(await proxyAllows(policyOf({ network: { allowedDomains: ['127.0.0.1'] } }), '127.0.0.1', 80)).toBe(
      'the proxies allow 127.0.0.1:80: allowed by network.allowedDomains',
    );
  });
});
