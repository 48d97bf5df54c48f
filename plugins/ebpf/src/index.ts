/**
 * @fence/plugin-ebpf: the violation monitor of the Linux sandbox (-m). A prebuilt eBPF program
 * (in @fence/native's addon) reports the sandbox's failing file, exec and connect syscalls,
 * filtered in the kernel by its PID namespace; the kernel log adds Landlock (and, without the
 * seccomp supervisor, seccomp) audit records of the same namespace.
 *
 * Each command is held at the sandbox's start gate until the monitor watches it (a few ms), and
 * its exit waits until every event the kernel buffered has reached the stream.
 */
import { definePlugin, Tokens, type PluginHost, type RunningCommand } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { detectEbpf } from './detect.js';
import { KmsgReader } from './kmsg-reader.js';
import { findSandboxPidNamespace } from './pid-namespace.js';
import { seccompSyscallName } from './syscall-names.js';
import { loadTracerAddon, startTracer } from './tracer.js';

interface Attached {
  /** Resolves once every event of the command is in the stream. */
  readonly stop: () => Promise<unknown>;
}

async function attach(kernel: PluginHost, command: RunningCommand, facts: Readonly<Record<string, unknown>>): Promise<Attached[]> {
  const logger = kernel.resolve(Tokens.Logger);
  const pidns = await findSandboxPidNamespace(command.pid);
  if (!pidns) {
    logger.debug('ebpf', `no PID namespace of its own under pid ${command.pid}; not monitoring`);
    return [];
  }
  const violations = kernel.resolve(Tokens.Violations);
  const attached: Attached[] = [];
  const addon = await loadTracerAddon();
  if (addon && facts.audit === true) {
    try {
      attached.push(KmsgReader.start({ fd: addon.kmsgOpen(), pidns, violations, syscallName: seccompSyscallName }));
    } catch (e) {
      logger.warn(`-m: ${e instanceof Error ? e.message : String(e)}; Landlock denials are not shown`);
    }
  }
  if (addon && facts.ebpf === true) {
    try {
      const tracer = startTracer(addon, pidns, violations);
      logger.debug('ebpf', `tracing pid namespace ${pidns.inode}`);
      attached.push({
        stop: async () => {
          const lost = await tracer.stop();
          if (lost > 0) logger.warn(`-m: the kernel dropped ${lost} eBPF event(s): the monitor's buffer was full`);
        },
      });
    } catch (e) {
      logger.warn(`-m: ${e instanceof Error ? e.message : String(e)}; file, exec and connect denials are not shown`);
    }
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
    let facts: Readonly<Record<string, unknown>> = {};
    const stop = async (command: RunningCommand) => {
      const attached = running.get(command);
      running.delete(command);
      await Promise.all((await attached)?.map((a) => a.stop()) ?? []);
    };
    // The command must not run before the monitor watches it: hold it at the sandbox's start gate.
    helperSession(kernel).hooks.holdStart.tap('ebpf', () => kernel.options.monitor || undefined);
    kernel.hooks.prepare.tap('ebpf', (_plan, report) => {
      facts = report.get('ebpf')?.facts ?? {};
    });
    kernel.hooks.monitor.tapPromise('ebpf', async (command) => {
      if (!command.monitor) return;
      const pending = attach(kernel, command, facts);
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
  // Only -m shows what the monitor sees: without it, probing is waste.
  wanted: ({ monitor }) => monitor,
});

export default ebpfPlugin;

export { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, canLoadBpf, effectiveCapabilities, hasCapability } from './capabilities.js';
export { detectEbpf, kmsgReadable, REASONS } from './detect.js';
export { ebpfViolation, errnoText, REPORTED_ERRNOS, TRACED_OPERATIONS, type EbpfEvent } from './ebpf-event.js';
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
export { findSandboxPidNamespace, pidNamespaceOf, type PidNamespace } from './pid-namespace.js';
export { loadTracerAddon, startTracer, type Tracer, type TracerAddon } from './tracer.js';
