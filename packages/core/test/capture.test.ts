import { describe, expect, it } from 'vitest';
import { annotateStderr, type CommandResult } from '../src/capture.js';
import type { Violation } from '../src/violations.js';

const blocked: Violation = { time: 0, source: 'http', action: 'block', target: 'example.com:443', process: '', pid: 0, reason: 'not in network.allowedDomains', detail: 'CONNECT 403 example.com https://example.com:443' };
const result = (status: number, stderr: string, violations: Violation[]): CommandResult => ({ status, stdout: '', stderr, violations });

describe('annotateStderr', () => {
  it('adds the blocked actions after the stderr of a failed command', () => {
    expect(annotateStderr(result(22, 'curl: (22) error: 403\n', [blocked, { ...blocked, source: 'socks', detail: undefined }]))).toBe(
      'curl: (22) error: 403\n' +
        'fence: the sandbox blocked 2 actions while this command ran (exit 22):\n' +
        'fence:   http: CONNECT 403 example.com https://example.com:443 (not in network.allowedDomains)\n' +
        'fence:   socks: example.com:443 (not in network.allowedDomains)\n',
    );
  });

  it('starts the note on its own line when the stderr does not end with one', () => {
    expect(annotateStderr(result(1, 'partial', [blocked]))).toMatch(/^partial\nfence: the sandbox blocked 1 action/);
  });

  it('leaves the stderr alone when the command succeeded or nothing was blocked', () => {
    expect(annotateStderr(result(0, 'warn\n', [blocked]))).toBe('warn\n');
    expect(annotateStderr(result(1, 'err\n', []))).toBe('err\n');
  });
});
