import { describe, expect, it } from 'vitest';
import { blockedSummary, formatViolation, violationJson } from '../src/render/violation.js';

const at = new Date(2026, 0, 1, 14, 3, 22).getTime();

describe('violation rendering', () => {
  it('prints blocked proxy events in the seed format', () => {
    const line = formatViolation({ time: at, source: 'http', action: 'block', target: 'example.com:443', process: '', pid: 0, reason: 'not allowed', detail: 'CONNECT 403 example.com https://example.com:443' });
    expect(line).toBe('[fence:http] 14:03:22 ✗ CONNECT 403 example.com https://example.com:443');
  });

  it('prints JSON lines with exactly the documented fields', () => {
    const v = { time: at, source: 'ebpf', action: 'block' as const, target: '/etc/x', process: 'touch', pid: 7, reason: 'Read-only file system', detail: 'x' };
    expect(Object.keys(JSON.parse(violationJson(v)))).toEqual(['time', 'source', 'action', 'target', 'process', 'pid', 'reason']);
  });

  it('summarises what was blocked per source', () => {
    expect(blockedSummary(new Map())).toBe('fence: nothing was blocked');
    expect(blockedSummary(new Map([['http', 2], ['ebpf', 1]]))).toBe('fence: blocked 3 actions (http 2, ebpf 1)');
  });
});
