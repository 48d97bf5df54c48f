/**
 * The creation guard (native/fence-native/src/guard.h): fence-launch forks a process inside the
 * sandbox that answers every creation syscall of the command, so a protected name can be created
 * nowhere, and a protected name that does not exist needs no read-only placeholder file in the
 * user's tree. This file decides whether a run has it and what it guards; without it (no native
 * helper, an old kernel) the placeholders and the close-time sweep protect instead, and the run
 * warns that they show. A seccomp supervisor (-m, runtimeExecPolicy "argv") does not stand in its
 * way: the guard holds the one listener and forwards the supervisor's calls.
 */
import { release } from 'node:os';
import { GIT_PROTECTED_NAMES, type DetectionReport, type Policy } from '@fence/core';
import type { HelperPlan } from '@fence/linux-helper';
import { gitProtectedNames, PROTECTED_DIRS, PROTECTED_FILES, userSettingsDir } from './mandatory-paths.js';

export type CreateGuard = NonNullable<HelperPlan['createGuard']>;

/** SECCOMP_IOCTL_NOTIF_ADDFD (the guard hands each opened file to the command) came in Linux 5.9. */
const kernelHasAddFd = (version: string): boolean => {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 9);
};

/** What the guard refuses under this policy: the protected names of @fence/core, nothing else. */
export function createGuardNames(policy: Policy): CreateGuard {
  const git: readonly string[] = GIT_PROTECTED_NAMES;
  return {
    files: [...PROTECTED_FILES],
    // Fence's per-user settings directory, as a name: `fence` in a directory called `.config`.
    dirs: [...PROTECTED_DIRS, userSettingsDir('').slice(1)],
    git: [...git],
    gitConfig: gitProtectedNames(policy.filesystem.allowGitConfig).filter((n) => !git.includes(n)),
  };
}

/** What a run without the guard shows the user. */
export const PLACEHOLDERS_SHOW = 'protected names that do not exist yet are read-only placeholder files in your tree while the command runs (git status shows them)';

/**
 * The guard for this run, or why there is none (a warning; without the helper, the helper's
 * own warning says it).
 */
export function chooseCreateGuard(plan: { readonly policy: Policy }, report: DetectionReport, helper: boolean): CreateGuard | string | undefined {
  if (!helper) return undefined;
  if (report.get('seccomp')?.facts?.notify !== true || !kernelHasAddFd(release())) return `no creation guard (it needs seccomp user notification with ADDFD, Linux 5.9+): ${PLACEHOLDERS_SHOW}`;
  return createGuardNames(plan.policy);
}
