/**
 * @fence/plugin-ebpf: the violation monitor of the Linux sandbox (-m). A prebuilt eBPF program
 * (in @fence/native's addon) reports the sandbox's failing file, exec and connect syscalls,
 * filtered in the kernel by its PID namespace, and the pids that create its Landlock domains; the
 * kernel's audit records (when the audit is on) add the Landlock denials of those domains.
 *
 * Each command is held at the sandbox's start gate until the monitor watches it (a few ms), and
 * its exit waits until every event the kernel buffered has reached the stream.
 */
import { definePlugin, PrepareStage, Tokens, type PluginHost, type RunningCommand } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { AuditReader } from './audit-reader.js';
import { detectEbpf } from './detect.js';
import { findSandboxPidNamespace } from './pid-namespace.js';
import { loadTracerAddon, startTracer, type Tracer } from './tracer.js';

interface Attached {
  /** Resolves once every event of the command is in the stream. */
  readonly stop: () => Promise<void>;
}

const NONE: Attached = { stop: () => Promise.resolve() };

async function attach(kernel: PluginHost, command: RunningCommand, facts: Readonly<Record<string, unknown>>): Promise<Attached> {
  const logger = kernel.resolve(Tokens.Logger);
  const addon = facts.ebpf === true ? await loadTracerAddon() : undefined;
  if (!addon) return NONE;
  const pidns = await findSandboxPidNamespace(command.pid);
  if (!pidns) {
    logger.debug('ebpf', `no PID namespace of its own under pid ${command.pid}; not monitoring`);
    return NONE;
  }
  const violations = kernel.resolve(Tokens.Violations);
  let audit: AuditReader | undefined;
  if (facts.audit === true) {
    try {
      audit = AuditReader.start({ addon, violations });
    } catch (e) {
      logger.warn(`-m: ${e instanceof Error ? e.message : String(e)}; Landlock denials are not shown`);
    }
  }
  let tracer: Tracer;
  try {
    tracer = startTracer(addon, pidns, violations, (pid) => audit?.addCreator(pid));
    logger.debug('ebpf', `tracing pid namespace ${pidns.inode}`);
  } catch (e) {
    logger.warn(`-m: ${e instanceof Error ? e.message : String(e)}; file, exec and connect denials are not shown`);
    // Without the program the sandbox's Landlock domains are unknown: every record would be dropped.
    await audit?.stop();
    return NONE;
  }
  return {
    stop: async () => {
      // The creators first: the audit reader decides what its records belong to once it knows them all.
      const lost = await tracer.stop();
      if (lost > 0) logger.warn(`-m: the kernel dropped ${lost} eBPF event(s): the monitor's buffer was full`);
      const dropped = await audit?.stop();
      if (dropped?.overflows) logger.warn(`-m: the kernel dropped audit records ${dropped.overflows} time(s): the monitor's buffer was full; Landlock denials may be missing`);
      if (dropped?.lost) logger.warn(`-m: the kernel could not log ${dropped.lost} audit record(s) during the run (audit backlog limit); Landlock denials may be missing`);
    },
  };
}

export const ebpfPlugin = definePlugin({
  name: 'ebpf',
  platforms: ['linux'],
  provides: ['monitor'],
  detect: () => detectEbpf(),
  apply(kernel) {
    const running = new Map<RunningCommand, Promise<Attached>>();
    let facts: Readonly<Record<string, unknown>> = {};
    const stop = async (command: RunningCommand) => {
      const attached = running.get(command);
      running.delete(command);
      await (await attached)?.stop();
    };
    // The command must not run before the monitor watches it: hold it at the sandbox's start gate.
    helperSession(kernel).hooks.holdStart.tap('ebpf', () => kernel.options.monitor || undefined);
    kernel.hooks.prepare.tap({ name: 'ebpf', stage: PrepareStage.MONITOR }, (_plan, report) => {
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

export { AuditReader, type AuditAddon, type AuditReaderOptions } from './audit-reader.js';
export { AUDIT_EOE, AUDIT_LANDLOCK_ACCESS, AUDIT_LANDLOCK_DOMAIN, AUDIT_SYSCALL, AuditAttributor, auditFields, parseAuditRecord, type AuditRecord } from './audit-records.js';
export { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, canLoadBpf, effectiveCapabilities, hasCapability } from './capabilities.js';
export { detectEbpf, REASONS } from './detect.js';
export { ebpfViolation, errnoText, REPORTED_ERRNOS, TRACED_OPERATIONS, type EbpfEvent } from './ebpf-event.js';
export { findSandboxPidNamespace, pidNamespaceOf, type PidNamespace } from './pid-namespace.js';
export { LANDLOCK_DOMAIN_OP, loadTracerAddon, startTracer, type MonitorAddon, type Tracer, type TracerAddon } from './tracer.js';
