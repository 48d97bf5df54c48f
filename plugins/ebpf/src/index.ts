/**
 * @fence/plugin-ebpf: the violation monitor of the Linux sandbox (-m). bpftrace traces the
 * sandbox's failing file, exec and connect syscalls, filtered in the kernel by its PID namespace;
 * the kernel log adds seccomp (and Landlock) audit records of the same namespace.
 */
import { definePlugin, PrepareStage, Tokens, type Kernel, type RunningCommand } from '@fence/core';
import { availableSyscalls, detectEbpf, kmsgReadable } from './detect.js';
import { KmsgReader } from './kmsg-reader.js';
import { EbpfMonitor } from './monitor.js';
import { findSandboxPidNamespace } from './pid-namespace.js';
import { seccompSyscallNamer } from './syscall-names.js';

interface Attached {
  readonly stop: () => Promise<void>;
}

async function attach(kernel: Kernel, command: RunningCommand): Promise<Attached[]> {
  const logger = kernel.resolve(Tokens.Logger);
  const pidns = await findSandboxPidNamespace(command.pid);
  if (!pidns) {
    logger.debug('ebpf', `no PID namespace of its own under pid ${command.pid}; not monitoring`);
    return [];
  }
  const violations = kernel.resolve(Tokens.Violations);
  const attached: Attached[] = [];
  const probe = kernel.resolve(Tokens.Probe);
  const dmesg = kmsgReadable() ? probe.which('dmesg') : undefined;
  if (dmesg) attached.push(KmsgReader.start({ dmesg, pidns, violations, syscallName: await seccompSyscallNamer() }));
  try {
    attached.push(
      await EbpfMonitor.start({ bpftrace: probe.which('bpftrace')!, pidns, syscalls: availableSyscalls(), violations, clock: kernel.resolve(Tokens.Clock), logger }),
    );
  } catch (e) {
    logger.warn(e instanceof Error ? e.message : String(e));
  }
  return attached;
}

export const ebpfPlugin = definePlugin({
  name: 'ebpf',
  platforms: ['linux'],
  provides: ['monitor'],
  detect: () => detectEbpf(),
  apply(kernel) {
    const running = new Map<RunningCommand, Promise<Attached[]>>();
    const stop = async (command: RunningCommand) => {
      const attached = running.get(command);
      running.delete(command);
      await Promise.all((await attached)?.map((a) => a.stop()) ?? []);
    };
    // The command must not run before the monitor watches it: hold it at the sandbox's start gate.
    kernel.hooks.prepare.tap({ name: 'ebpf', stage: PrepareStage.MONITOR }, (plan) => {
      if (kernel.options.monitor) plan.holdStart = true;
    });
    kernel.hooks.monitor.tapPromise('ebpf', async (command) => {
      if (!command.monitor) return;
      const pending = attach(kernel, command);
      running.set(command, pending);
      await pending;
    });
    kernel.hooks.exit.tapPromise('ebpf', ({ command }) => stop(command));
    kernel.hooks.dispose.tapPromise('ebpf', async () => {
      await Promise.all([...running.keys()].map(stop));
    });
  },
  // Only -m needs the monitor.
  requiredUnderStrict: ({ monitor }) => monitor,
  // Only -m shows what the monitor sees: without it, starting bpftrace (or probing it) is waste.
  wanted: ({ monitor }) => monitor,
});

export default ebpfPlugin;

export {
  BPFTRACE_STRLEN,
  buildBpftraceScript,
  ebpfViolation,
  errnoText,
  isAttachedLine,
  parseBpftraceOutput,
  REPORTED_ERRNOS,
  TRACED_SYSCALLS,
  type BpftraceScriptOptions,
  type EbpfEvent,
  type TracedSyscall,
} from './bpftrace-script.js';
export { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, canLoadBpf, effectiveCapabilities, hasCapability } from './capabilities.js';
export { availableSyscalls, detectEbpf, kmsgReadable, REASONS } from './detect.js';
export {
  AUDIT_LANDLOCK_ACCESS,
  AUDIT_LANDLOCK_DOMAIN,
  AUDIT_SECCOMP,
  AuditAttributor,
  auditFields,
  parseAuditRecord,
  type AuditRecord,
  type SyscallNamer,
} from './kmsg-audit.js';
export { KmsgReader, type KmsgReaderOptions } from './kmsg-reader.js';
export { EbpfMonitor, type EbpfMonitorOptions } from './monitor.js';
export { findSandboxPidNamespace, pidNamespaceOf, type PidNamespace } from './pid-namespace.js';
