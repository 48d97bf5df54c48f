/**
 * `limits` of the policy as resource limits for the in-sandbox helper (pure): the per-process
 * fallback. A sandbox plugin that can hold a limit for the sandbox as a whole (a cgroup) leaves
 * its rlimit out. The wall-clock limit is not an rlimit: the session enforces it (see
 * Sandbox.spawn).
 */
import type { Policy } from '@fence/core';
import type { Rlimit } from './helper-plan.js';

export function rlimitsFor(limits: Policy['limits']): Rlimit[] {
  const out: Rlimit[] = [];
  if (limits.memoryMB > 0) out.push({ resource: 'AS', value: limits.memoryMB * 1024 * 1024 });
  if (limits.processes > 0) out.push({ resource: 'NPROC', value: limits.processes });
  if (limits.cpuSeconds > 0) out.push({ resource: 'CPU', value: limits.cpuSeconds });
  if (limits.openFiles > 0) out.push({ resource: 'NOFILE', value: limits.openFiles });
  return out;
}
