import { describe, expect, it } from 'vitest';
import { rlimitsFor } from '../src/rlimits.js';

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
