/**
 * `limits` of the policy as resource limits for the in-sandbox helper (pure). The wall-clock
 * limit is not an rlimit: the session enforces it (see Sandbox.spawn).
 */
import type { HelperPlan } from './plan.js';
import type { Policy } from './policy.js';

export function rlimitsFor(limits: Policy['limits']): HelperPlan['rlimits'] {
  const out: HelperPlan['rlimits'] = [];
  if (limits.memoryMB > 0) out.push({ resource: 'AS', value: limits.memoryMB * 1024 * 1024 });
  if (limits.processes > 0) out.push({ resource: 'NPROC', value: limits.processes });
  if (limits.cpuSeconds > 0) out.push({ resource: 'CPU', value: limits.cpuSeconds });
  if (limits.openFiles > 0) out.push({ resource: 'NOFILE', value: limits.openFiles });
  return out;
}

/**
 * What the rlimits of `rlimitsFor` fail to enforce of `limits`, which SPEC §4.5b sets for the
 * sandbox as a whole: RLIMIT_AS and RLIMIT_CPU bind each process, and RLIMIT_NPROC counts the
 * user's processes (not the sandbox's) and does not bind root. Undefined when nothing falls short.
 */
export function rlimitShortfall(limits: Policy['limits'], root: boolean): string | undefined {
  const gaps: string[] = [];
  if (limits.memoryMB > 0) gaps.push('memoryMB limits each process, not the sandbox as a whole');
  if (limits.processes > 0) gaps.push(root ? 'processes is not enforced for root' : "processes counts all of this user's processes, not the sandbox's");
  if (limits.cpuSeconds > 0) gaps.push('cpuSeconds limits each process');
  return gaps.length ? `enforced only as rlimits (${gaps.join('; ')})` : undefined;
}
