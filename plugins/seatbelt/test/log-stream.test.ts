import { describe, expect, it } from 'vitest';
import { logStreamArgs, parseSandboxLogLine } from '../src/log-stream.js';

describe('parseSandboxLogLine', () => {
  it('reads a network denial', () => {
    expect(parseSandboxLogLine('Sandbox: curl(1234) deny(1) network-outbound 93.184.216.34:443', 5)).toEqual({
      time: 5,
      source: 'seatbelt',
      action: 'block',
      target: '93.184.216.34:443',
      process: 'curl',
      pid: 1234,
      reason: 'network-outbound',
      detail: 'network-outbound 93.184.216.34:443 (curl, pid=1234)',
    });
  });

  it('reads a compact log stream line with a tagged file denial', () => {
    const line = '2024-01-15 10:23:45.123 E  kernel[0:1a2b] (Sandbox) Sandbox: touch(77) deny(1) file-write-create /Users/me/.bashrc fence-abc';
    expect(parseSandboxLogLine(line, 0, 'fence-abc')).toMatchObject({ process: 'touch', pid: 77, reason: 'file-write-create', target: '/Users/me/.bashrc' });
  });

  it('keeps process names with spaces and parentheses', () => {
    expect(parseSandboxLogLine('Sandbox: Google Chrome (He)(9) deny(1) mach-lookup com.apple.x', 0)).toMatchObject({ process: 'Google Chrome (He)', pid: 9 });
  });

  it('skips denials of other sandboxes and unrelated lines', () => {
    expect(parseSandboxLogLine('Sandbox: curl(1) deny(1) network-outbound 1.2.3.4:80 fence-other', 0, 'fence-abc')).toBeUndefined();
    expect(parseSandboxLogLine('Filtering the log data using "eventMessage ENDSWITH ..."', 0)).toBeUndefined();
  });
});

describe('logStreamArgs', () => {
  it('selects this session by its tag, quoted', () => {
    expect(logStreamArgs('fence-abc')).toEqual(['stream', '--style', 'compact', '--predicate', 'eventMessage ENDSWITH "fence-abc"']);
  });
});
