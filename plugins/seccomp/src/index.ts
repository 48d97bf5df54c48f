/**
 * @fence/plugin-seccomp: the syscall filter layer. At PrepareStage.KERNEL_LAYERS it generates the
 * classic-BPF programs for this architecture and policy: the helper plan's `seccomp`, which the
 * in-sandbox helper installs with SECCOMP_FILTER_FLAG_LOG, and its `seccompQuiet` (the
 * socket(AF_UNIX) and clone3 rules), which it installs without the flag. Without the helper, the
 * sandbox installs one program with every rule instead: this layer answers its `singleFilter` hook.
 *
 * With -m, when the kernel and the addon can, the session also runs a supervisor: the helper
 * installs the notify variant of the logged program instead, and every EPERM denial is answered
 * and reported by Fence (any user, no audit, no rate limit). The exit hook waits for its events.
 *
 * When a layer taps the kernel's `exec` hook (the command policy's runtimeExecPolicy "argv"), the
 * supervisor runs with or without -m, the notify program also sends every execve/execveat, and
 * the supervisor answers each with the hook's verdict (`plan.exec.supervisor` says it does; a
 * machine that cannot leaves it unset, and that layer refuses to start).
 */
import { addFd, note, PrepareStage, Tokens, warn, type FencePlugin, type LaunchPlan } from '@fence/core';
import { helperSession, type HelperPlan } from '@fence/linux-helper';
import { detectSeccomp } from './detect.js';
import { execRequest, unreadableExec, type NotifyExec } from './exec-request.js';
import { buildSeccompProgram, describeSeccompProgram, notifySeccompProgram, seccompOptionsFor, splitSeccompPrograms } from './seccomp-filter.js';
import type { SeccompOptions } from './seccomp-rules.js';
import { startSupervisor, type Supervisor } from './supervisor.js';
import { seccompArchOf } from '@fence/syscalls';

const NAME = 'seccomp';

export const seccompPlugin: FencePlugin = {
  name: NAME,
  platforms: ['linux'],
  provides: ['syscalls'],
  detect: () => detectSeccomp(),
  apply(kernel) {
    const arch = seccompArchOf(process.arch);
    if (!arch) throw new Error(`no seccomp program for architecture ${process.arch} (Fence filters x64 and arm64)`);
    let supervisor: Supervisor | undefined;
    let options: SeccompOptions | undefined;
    const { plan: helper, hooks } = helperSession(kernel);
    const violations = kernel.resolve(Tokens.Violations);
    /** The exec hook's verdict; an unreadable call is refused and reported whatever it says. */
    const judge = (e: NotifyExec): boolean => {
      if (!e.readable) {
        violations.emit(unreadableExec(e, Date.now()));
        return false;
      }
      return kernel.hooks.exec.call(execRequest(e)) === undefined;
    };
    /** Runs the session's supervisor; false when the addon cannot. */
    const supervise = async (plan: LaunchPlan, helper: HelperPlan, options: SeccompOptions): Promise<boolean> => {
      supervisor = await startSupervisor(violations, options.superviseExec ? judge : undefined);
      if (!supervisor) return false;
      const { fd } = supervisor;
      plan.cleanup.push(() => supervisor?.close());
      helper.seccompNotify = { program: notifySeccompProgram(options), socket: addFd(plan, { inherit: () => fd }) };
      return true;
    };
    // A sandbox that installs one filter itself gets every rule of the two in one program.
    hooks.singleFilter.tap(NAME, () => (options ? buildSeccompProgram(options) : undefined));
    kernel.hooks.prepare.tapPromise({ name: NAME, stage: PrepareStage.KERNEL_LAYERS }, async (plan, report) => {
      // Taps, not isUsed(): every kernel hook has an interceptor (guardTaps), so isUsed() is always true.
      options = { ...seccompOptionsFor(plan.policy, arch), superviseExec: kernel.hooks.exec.taps.length > 0 };
      const { logged, quiet } = splitSeccompPrograms(options);
      helper.seccomp = logged;
      if (quiet) helper.seccompQuiet = quiet;
      for (const line of describeSeccompProgram(options).lines) note(plan, NAME, line);
      const availability = report.get(NAME);
      if (availability?.status === 'degraded') note(plan, NAME, `denials are not logged: ${availability.reason}`);
      const { allowUnixSockets, allowAllUnixSockets } = plan.policy.network;
      // Seccomp sees no paths: allowing one Unix socket allows socket(AF_UNIX), and so every socket in view.
      if (allowUnixSockets.length > 0 && !allowAllUnixSockets) {
        warn(plan, NAME, `network.allowUnixSockets lists ${allowUnixSockets.length} path(s), but connect() cannot be limited to them here (it needs Landlock ABI 9): every Unix socket visible in the sandbox is reachable`);
      }
      const wanted = kernel.options.monitor || options.superviseExec;
      if (wanted && availability?.facts?.notify === true && (await supervise(plan, helper, options))) {
        note(plan, NAME, 'supervisor: EPERM denials go to Fence (SECCOMP_RET_USER_NOTIF), which answers and reports them');
        if (options.superviseExec) plan.exec.supervisor = `the ${NAME} supervisor`;
      }
    });
    // The command has exited: its denials are all queued; let them reach the stream first.
    kernel.hooks.exit.tapPromise(NAME, async () => supervisor?.flush());
  },
};

export default seccompPlugin;

export { assemble, BPF, BPF_MAXINSNS, jump, label, stmt } from './bpf.js';
export type { Instruction, Item, Label, Target } from './bpf.js';
export { detectSeccomp, probeSeccomp, seccompAvailability, type SeccompFacts } from './detect.js';
export { describeCall, notifyViolation, SUPERVISOR_REASON, type NotifyEvent } from './notify-event.js';
export { startSupervisor, type ExecJudge, type Supervisor } from './supervisor.js';
export { execFile, execRequest, unreadableExec, type NotifyExec } from './exec-request.js';
export {
  buildSeccompProgram,
  describeSeccompProgram,
  ENOSYS,
  EPERM,
  SECCOMP_DATA,
  notifySeccompProgram,
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
  EXEC_RULES,
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
} from '@fence/syscalls';
