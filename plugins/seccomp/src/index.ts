/**
 * @fence/plugin-seccomp: the syscall filter layer. At PrepareStage.KERNEL_LAYERS it generates the
 * classic-BPF programs for this architecture and policy: `plan.helper.seccomp`, which the
 * in-sandbox helper installs with SECCOMP_FILTER_FLAG_LOG, and `plan.helper.seccompQuiet` (the
 * socket(AF_UNIX) rule), which it installs without the flag. Without the helper, bwrap's
 * `--seccomp` installs one program with every rule instead.
 */
import { note, PrepareStage, type FencePlugin } from '@fence/core';
import { detectSeccomp } from './detect.js';
import { describeSeccompProgram, seccompOptionsFor, splitSeccompPrograms } from './seccomp-filter.js';
import { seccompArchOf } from './syscalls.js';

const NAME = 'seccomp';

export const seccompPlugin: FencePlugin = {
  name: NAME,
  platforms: ['linux'],
  provides: ['syscalls'],
  detect: () => detectSeccomp(),
  apply(kernel) {
    const arch = seccompArchOf(process.arch);
    if (!arch) throw new Error(`no seccomp program for architecture ${process.arch} (Fence filters x64 and arm64)`);
    kernel.hooks.prepare.tapPromise({ name: NAME, stage: PrepareStage.KERNEL_LAYERS }, async (plan, report) => {
      const options = seccompOptionsFor(plan.policy, arch);
      const { logged, quiet } = splitSeccompPrograms(options);
      plan.helper.seccomp = logged;
      if (quiet) plan.helper.seccompQuiet = quiet;
      for (const line of describeSeccompProgram(options).lines) note(plan, NAME, line);
      const availability = report.get(NAME);
      if (availability?.status === 'degraded') note(plan, NAME, `denials are not logged: ${availability.reason}`);
    });
  },
};

export default seccompPlugin;

export { assemble, BPF, BPF_MAXINSNS, jump, label, stmt } from './bpf.js';
export type { Instruction, Item, Label, Target } from './bpf.js';
export { detectSeccomp, probeSeccomp, seccompAvailability, type SeccompFacts } from './detect.js';
export {
  buildSeccompProgram,
  describeSeccompProgram,
  ENOSYS,
  EPERM,
  SECCOMP_DATA,
  SECCOMP_RET,
  seccompOptionsFor,
  splitSeccompPrograms,
  type SeccompDescription,
  type SeccompPrograms,
} from './seccomp-filter.js';
export {
  AF_UNIX,
  AF_VSOCK,
  CLONE_NEWUSER,
  DANGEROUS_SYSCALLS,
  PER_LINUX,
  PERSONALITY_QUERY,
  ruleTarget,
  seccompRules,
  TIOCLINUX,
  TIOCSTI,
  type ArgTest,
  type SeccompAction,
  type SeccompOptions,
  type SeccompRule,
} from './seccomp-rules.js';
export {
  AUDIT_ARCH,
  SECCOMP_ARCHES,
  seccompArchOf,
  SYSCALL_NAMES,
  syscallNumber,
  X32_SYSCALL_BIT,
  type SeccompArch,
  type SyscallName,
} from './syscalls.js';
