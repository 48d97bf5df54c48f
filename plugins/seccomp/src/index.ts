/**
 * @fence/plugin-seccomp: the syscall filter layer. At PrepareStage.KERNEL_LAYERS it generates the
 * classic-BPF program for this architecture and policy and puts it in `plan.helper.seccomp`; the
 * sandbox plugin then has it installed by the in-sandbox helper (with SECCOMP_FILTER_FLAG_LOG) or,
 * without the helper, by bwrap's `--seccomp`.
 */
import { note, PrepareStage, type FencePlugin } from '@fence/core';
import { detectSeccomp } from './detect.js';
import { buildSeccompProgram, describeSeccompProgram, seccompOptionsFor } from './seccomp-filter.js';
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
      plan.helper.seccomp = buildSeccompProgram(options);
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
  type SeccompDescription,
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
