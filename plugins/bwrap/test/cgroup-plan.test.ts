import { describe, expect, it } from 'vitest';
import { cgroupBases, degradedWarning, limitReached, limitsFeature, planLimits, type CgroupBase } from '../src/cgroup-plan.js';

const limits = (l: Partial<Record<'memoryMB' | 'processes' | 'cpuSeconds' | 'openFiles' | 'wallSeconds', number>>) => ({
  memoryMB: 0,
  processes: 0,
  cpuSeconds: 0,
  openFiles: 0,
  wallSeconds: 0,
  ...l,
});

// This development machine: v1 hierarchies, cgroup2 without controllers, Fence's memory cgroup nested.
const HYBRID_MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_SELF = ['9:name=systemd:/', '8:pids:/', '4:memory:/process_api/abc', '2:cpuacct:/', '1:cpu:/', '0::/'].join('\n');

const v1: CgroupBase[] = [
  { version: 1, dir: '/sys/fs/cgroup/pids', controllers: ['pids'] },
  { version: 1, dir: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 1, dir: '/sys/fs/cgroup/cpuacct', controllers: ['cpuacct'] },
];
const v2: CgroupBase = { version: 2, dir: '/sys/fs/cgroup/user.slice', controllers: ['cpu', 'memory', 'pids'] };
const bare2: CgroupBase = { version: 2, dir: '/sys/fs/cgroup/unified', controllers: [] };

describe('cgroupBases', () => {
  it('finds each v1 hierarchy at Fence\'s own cgroup, and cgroup2', () => {
    expect(cgroupBases(HYBRID_MOUNTINFO, HYBRID_SELF)).toEqual([
      { version: 1, dir: '/sys/fs/cgroup/cpuacct', controllers: ['cpuacct'] },
      { version: 1, dir: '/sys/fs/cgroup/memory/process_api/abc', controllers: ['memory'] },
      { version: 1, dir: '/sys/fs/cgroup/pids', controllers: ['pids'] },
      { version: 2, dir: '/sys/fs/cgroup/unified', controllers: [] },
    ]);
  });

  it('puts a v2 run cgroup beside Fence\'s own, which holds processes and so cannot have children with controllers', () => {
    const mounts = '29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
    expect(cgroupBases(mounts, '0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope')).toEqual([
      { version: 2, dir: '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice', controllers: [] },
    ]);
  });

  it('maps a container\'s mounted sub-hierarchy, and skips a cgroup outside what is mounted', () => {
    const mounts = '40 30 0:35 /docker/x /sys/fs/cgroup/pids ro - cgroup cgroup rw,pids';
    expect(cgroupBases(mounts, '8:pids:/docker/x')).toEqual([{ version: 1, dir: '/sys/fs/cgroup/pids', controllers: ['pids'] }]);
    expect(cgroupBases(mounts, '8:pids:/elsewhere')).toEqual([]);
  });
});

describe('planLimits', () => {
  it('holds every limit in the v1 hierarchies and replaces their rlimits', () => {
    const plan = planLimits(limits({ processes: 50, memoryMB: 100, cpuSeconds: 3, openFiles: 64 }), { bases: [...v1, bare2], helper: true, root: true });
    expect(plan.choices).toEqual([
      { field: 'processes', mechanism: 'cgroup v1' },
      { field: 'memoryMB', mechanism: 'cgroup v1' },
      { field: 'cpuSeconds', mechanism: 'cgroup v1' },
      { field: 'openFiles', mechanism: 'rlimit' },
    ]);
    expect(plan.replaced).toEqual(['NPROC', 'AS', 'CPU']);
    expect(plan.cgroups).toEqual([
      { version: 1, base: '/sys/fs/cgroup/pids', settings: [{ file: 'pids.max', value: '50' }], watches: [{ field: 'processes', file: 'pids.events' }] },
      {
        version: 1,
        base: '/sys/fs/cgroup/memory',
        settings: [
          { file: 'memory.limit_in_bytes', value: String(100 * 1024 * 1024) },
          { file: 'memory.memsw.limit_in_bytes', value: String(100 * 1024 * 1024), optional: true },
        ],
        watches: [{ field: 'memoryMB', file: 'memory.oom_control' }],
      },
      { version: 1, base: '/sys/fs/cgroup/cpuacct', settings: [], watches: [{ field: 'cpuSeconds', file: 'cpuacct.usage' }] },
    ]);
  });

  it('prefers cgroup v2 when it has every controller the limits need', () => {
    const plan = planLimits(limits({ processes: 10, memoryMB: 1 }), { bases: [...v1, v2], helper: true, root: false });
    expect(plan.cgroups).toHaveLength(1);
    expect(plan.cgroups[0]).toMatchObject({ version: 2, base: v2.dir, watches: [{ field: 'processes', file: 'pids.events' }, { field: 'memoryMB', file: 'memory.events' }] });
    expect(plan.cgroups[0]!.settings).toContainEqual({ file: 'memory.oom.group', value: '1', optional: true });
  });

  it('reads CPU time from a bare cgroup2 when no v1 cpuacct is writable', () => {
    const plan = planLimits(limits({ cpuSeconds: 5 }), { bases: [bare2], helper: true, root: false });
    expect(plan.cgroups).toEqual([{ version: 2, base: bare2.dir, settings: [], watches: [{ field: 'cpuSeconds', file: 'cpu.stat' }] }]);
  });

  it('falls back to rlimits without a writable cgroup, and says what that means', () => {
    const plan = planLimits(limits({ processes: 50, memoryMB: 100 }), { bases: [], helper: true, root: false });
    expect(plan.cgroups).toEqual([]);
    expect(plan.replaced).toEqual([]);
    expect(plan.choices).toEqual([
      { field: 'processes', mechanism: 'rlimit', consequence: 'applies per user, not to the sandbox as a whole' },
      { field: 'memoryMB', mechanism: 'rlimit', consequence: 'applies per process, not to the sandbox as a whole' },
    ]);
    expect(degradedWarning(plan.choices, false)).toBe(
      'limits.processes applies per user, not to the sandbox as a whole; limits.memoryMB applies per process, not to the sandbox as a whole; run as root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes fence …)',
    );
  });

  it('does not count RLIMIT_NPROC as a limit for root, nor any rlimit without the helper', () => {
    expect(planLimits(limits({ processes: 5 }), { bases: [], helper: true, root: true }).choices[0]).toMatchObject({ mechanism: 'none' });
    expect(planLimits(limits({ memoryMB: 5, openFiles: 9 }), { bases: [], helper: false, root: false }).choices.map((c) => c.mechanism)).toEqual(['none', 'none']);
  });

  it('plans nothing and warns of nothing without limits', () => {
    const plan = planLimits(limits({ wallSeconds: 3 }), { bases: v1, helper: true, root: true });
    expect(plan).toEqual({ cgroups: [], choices: [], replaced: [] });
    expect(degradedWarning(plan.choices, true)).toBeUndefined();
  });
});

describe('limitReached', () => {
  const l = limits({ processes: 50, memoryMB: 100, cpuSeconds: 2 });
  it('says when forks were refused, without stopping the sandbox', () => {
    expect(limitReached({ field: 'processes', file: 'pids.events' }, 'max 0\n', l)).toBeUndefined();
    expect(limitReached({ field: 'processes', file: 'pids.events' }, 'max 7\n', l)).toEqual({ message: 'limits.processes: the sandbox reached its 50 processes; further forks failed', stop: false });
  });

  it('stops the sandbox when the kernel killed a process for memory (v1 and v2)', () => {
    expect(limitReached({ field: 'memoryMB', file: 'memory.oom_control' }, 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n', l)).toBeUndefined();
    expect(limitReached({ field: 'memoryMB', file: 'memory.oom_control' }, 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n', l)?.stop).toBe(true);
    expect(limitReached({ field: 'memoryMB', file: 'memory.events' }, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 1\n', l)?.message).toBe(
      'limits.memoryMB: the sandbox used its 100 MB and was stopped',
    );
  });

  it('stops the sandbox at its CPU time, in ns (cpuacct) or µs (cpu.stat)', () => {
    expect(limitReached({ field: 'cpuSeconds', file: 'cpuacct.usage' }, '1999999999\n', l)).toBeUndefined();
    expect(limitReached({ field: 'cpuSeconds', file: 'cpuacct.usage' }, '2000000000\n', l)?.stop).toBe(true);
    expect(limitReached({ field: 'cpuSeconds', file: 'cpu.stat' }, 'usage_usec 2500000\nuser_usec 1\n', l)?.message).toBe('limits.cpuSeconds: the sandbox used 2 s of CPU time and was stopped');
  });
});

describe('limitsFeature', () => {
  it('marks sandbox-wide limits ✓ and per-process ones ○ with the fix', () => {
    expect(limitsFeature({ bases: v1, helper: true, root: true })).toMatchObject({ mark: '✓', value: 'cgroup v1 (processes, memoryMB, cpuSeconds)' });
    const rl = limitsFeature({ bases: [], helper: true, root: false });
    expect(rl).toMatchObject({ mark: '○', value: 'rlimits (processes, memoryMB, cpuSeconds)' });
    expect(rl.consequence).toContain('delegated cgroup');
  });
});
