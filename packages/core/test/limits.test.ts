import { describe, expect, it } from 'vitest';
import { rlimitShortfall, rlimitsFor } from '../src/limits.js';

describe('rlimitsFor', () => {
  it('maps each limit to its rlimit, in bytes for memory, and leaves out zeros', () => {
    expect(rlimitsFor({ memoryMB: 512, processes: 0, cpuSeconds: 30, openFiles: 256, wallSeconds: 9 })).toEqual([
      { resource: 'AS', value: 512 * 1024 * 1024 },
      { resource: 'CPU', value: 30 },
      { resource: 'NOFILE', value: 256 },
    ]);
    expect(rlimitsFor({ memoryMB: 0, processes: 0, cpuSeconds: 0, openFiles: 0, wallSeconds: 0 })).toEqual([]);
  });
});

describe('rlimitShortfall', () => {
  const none = { memoryMB: 0, processes: 0, cpuSeconds: 0, openFiles: 0, wallSeconds: 0 };

  it('names each limit an rlimit cannot hold for the sandbox as a whole', () => {
    expect(rlimitShortfall({ ...none, memoryMB: 1, processes: 2, cpuSeconds: 3 }, false)).toBe(
      "enforced only as rlimits (memoryMB limits each process, not the sandbox as a whole; processes counts all of this user's processes, not the sandbox's; cpuSeconds limits each process)",
    );
    expect(rlimitShortfall({ ...none, processes: 2 }, true)).toBe('enforced only as rlimits (processes is not enforced for root)');
  });

  it('has nothing to say about open files, the wall clock or no limits at all', () => {
    expect(rlimitShortfall({ ...none, openFiles: 64, wallSeconds: 5 }, true)).toBeUndefined();
  });
});
