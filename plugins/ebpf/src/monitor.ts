/**
 * The eBPF monitor of one command: bpftrace with the program for the sandbox's PID namespace,
 * its events turned into violations.
 *
 * It starts in the `monitor` hook, after the command: the namespace's inode exists only once
 * bwrap has cloned. Attaching takes bpftrace about a second; the hook returns once the probes are
 * attached, so denials in the command's first moments are not seen.
 */
import type { Clock, Logger, ViolationStream } from '@fence/core';
import { BPFTRACE_STRLEN, buildBpftraceScript, ebpfViolation, isAttachedLine, parseBpftraceOutput } from './bpftrace-script.js';
import { spawnLines, type LineProcess } from './line-process.js';
import type { PidNamespace } from './pid-namespace.js';

export interface EbpfMonitorOptions {
  readonly bpftrace: string;
  readonly pidns: PidNamespace;
  readonly syscalls: readonly string[];
  readonly violations: ViolationStream;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly attachTimeoutMs?: number;
}

/** bpftrace gets this long after SIGINT to detach, print its last events and exit. */
const STOP_GRACE_MS = 5000;

export class EbpfMonitor {
  private constructor(private readonly proc: LineProcess) {}

  /** Starts bpftrace; resolves once its probes are attached, rejects when it fails to. */
  static async start(o: EbpfMonitorOptions): Promise<EbpfMonitor> {
    const script = buildBpftraceScript({ pidns: o.pidns.inode, level: o.pidns.level, syscalls: o.syscalls });
    o.logger.debug('ebpf', `tracing pid namespace ${o.pidns.inode} (level ${o.pidns.level}): ${o.syscalls.join(', ')}`);
    let attached!: () => void;
    const ready = new Promise<void>((resolve) => (attached = resolve));
    const argv = [o.bpftrace, '-f', 'json', '-e', script];
    const proc = spawnLines(argv, { ...process.env, BPFTRACE_STRLEN: String(BPFTRACE_STRLEN) }, (line) => {
      if (isAttachedLine(line)) return attached();
      const event = parseBpftraceOutput(line);
      if (event) o.violations.emit(ebpfViolation(event, o.clock.now()));
    });
    const timeoutMs = o.attachTimeoutMs ?? 15000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'attached' as const),
      proc.closed.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'attached') {
      await proc.stop('SIGKILL', 0);
      const why = outcome === 'timeout' ? `no probes attached within ${timeoutMs} ms` : proc.stderr().split('\n').filter((l) => !/RLIMIT_MEMLOCK/.test(l)).join(' ');
      throw new Error(`fence: ebpf: bpftrace failed: ${why || 'exited'}`);
    }
    o.logger.debug('ebpf', 'probes attached');
    return new EbpfMonitor(proc);
  }

  /**
   * Stops bpftrace and resolves when it has exited. Events still in the kernel's buffers are
   * printed only after the probes are detached, which takes the kernel about two seconds.
   */
  stop(): Promise<void> {
    return this.proc.stop('SIGINT', STOP_GRACE_MS);
  }

  /** Resolves when bpftrace has exited (it exits by itself when the sandbox's init does). */
  get closed(): Promise<void> {
    return this.proc.closed;
  }
}
