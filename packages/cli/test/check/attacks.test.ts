import { describe, expect, it } from 'vitest';
import { ATTACKS } from '../../src/check/attacks.js';

// SPEC §1: `fence check` attacks at least these layers and policy sections.
const SECTIONS = [
  'filesystem.allowWrite',
  'mandatory write protection',
  'filesystem.denyRead',
  'environment',
  'command.runtimeExecPolicy',
  'host processes',
  'nested namespaces',
  'ptrace',
  'io_uring',
  'TIOCSTI',
  'network.allowUnixSockets',
  "Fence's own relays",
  'direct TCP',
  'direct UDP',
  'network.allowedDomains (HTTP proxy)',
  'network.allowedDomains (SOCKS5 proxy)',
];

describe('the attacks of fence check', () => {
  it.each(SECTIONS)('cover %s', (section) => {
    expect(ATTACKS.some((a) => a.covers.startsWith(section))).toBe(true);
  });

  it('have distinct names', () => {
    expect(new Set(ATTACKS.map((a) => a.name)).size).toBe(ATTACKS.length);
  });

  it('run the relay attacks last: they break the relays they swap', () => {
    const relay = ATTACKS.findIndex((a) => a.covers === "Fence's own relays");
    expect(ATTACKS.slice(relay).every((a) => a.covers === "Fence's own relays")).toBe(true);
  });
});
