import { describe, expect, it } from 'vitest';
import { ebpfViolation, errnoText } from '../src/ebpf-event.js';

describe('ebpfViolation', () => {
  it('renders open: Read-only file system (touch, pid=N) with the kernel time of the call', () => {
    const v = ebpfViolation({ time: 1_700_000_000_123.5, op: 'open', errno: 30, pid: 7, tid: 8, comm: 'touch', target: '/etc/x' });
    expect(v).toEqual({
      time: 1_700_000_000_123.5,
      source: 'ebpf',
      action: 'block',
      target: '/etc/x',
      process: 'touch',
      pid: 7,
      reason: 'Read-only file system',
      detail: 'open: Read-only file system (touch, pid=7)',
    });
  });

  it('names the three reported errnos and numbers the others', () => {
    expect([1, 13, 30, 2].map(errnoText)).toEqual(['Operation not permitted', 'Permission denied', 'Read-only file system', 'errno 2']);
  });
});
