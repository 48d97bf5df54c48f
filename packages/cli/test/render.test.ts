import { describe, expect, it } from 'vitest';
import { TimeOrder } from '../src/render/time-order.js';
import { blockedSummary, formatViolation, summaryJson, unseenNotice, violationJson } from '../src/render/violation.js';

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

describe('TimeOrder', () => {
  const v = (time: number, target: string) => ({ time, source: 'ebpf', action: 'block' as const, target, process: '', pid: 0, reason: '' });

  it('prints events in time order once they have waited their window, and the rest at flush', () => {
    let now = 1000;
    const printed: string[] = [];
    const order = new TimeOrder((e) => printed.push(e.target), 100, () => now);
    order.push(v(990, 'late proxy'));
    order.push(v(950, 'kernel'));
    order.push(v(1000, 'last'));
    now = 1095;
    order.release();
    expect(printed).toEqual(['kernel', 'late proxy']);
    order.flush();
    expect(printed).toEqual(['kernel', 'late proxy', 'last']);
  });
});

describe('-m --json summary and notices', () => {
  it('ends with one summary object and states what -m does not show', () => {
    expect(JSON.parse(summaryJson(new Map([['seccomp', 2]]), 1, ['Landlock denials: …']))).toEqual({
      summary: { blocked: 2, sources: { seccomp: 2 }, status: 1, unseen: ['Landlock denials: …'] },
    });
    expect(unseenNotice('Landlock denials: run fence as root', false)).toBe('fence: -m does not show Landlock denials: run fence as root');
    expect(JSON.parse(unseenNotice('x', true))).toEqual({ unseen: 'x' });
  });
});
