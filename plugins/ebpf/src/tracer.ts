/**
 * The eBPF monitor of one command: the addon's prebuilt program attached for the sandbox's PID
 * namespace (milliseconds), its events turned into violations, and the pids that create a Landlock
 * domain handed to whoever attributes Landlock's audit records. stop() detaches only after the
 * ring buffer is drained, and resolves once every event has been delivered.
 */
import type { ViolationStream } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { ebpfViolation, type EbpfEvent } from './ebpf-event.js';
import type { AuditAddon } from './audit-reader.js';
import type { PidNamespace } from './pid-namespace.js';

/** The part of @fence/native's addon the monitor uses. */
export interface TracerAddon {
  ebpfMonitor(dev: number, ino: number, onEvent: (e: EbpfEvent) => void): { stop(done: (lost: number) => void): void };
  /** Loads the program without attaching it: undefined when this process may, else why not. */
  ebpfProbe(): string | undefined;
}

/** The addon's monitor functions: the eBPF program and the audit records. */
export type MonitorAddon = TracerAddon & AuditAddon;

export const loadTracerAddon = (): Promise<MonitorAddon | undefined> => addonWith<MonitorAddon>('ebpfMonitor', 'auditOpen');

export interface Tracer {
  /** Detaches after the last event; resolves with how many the full buffer made the kernel drop. */
  stop(): Promise<number>;
}

/** The op of a successful landlock_restrict_self: not a denial, the creator of a Landlock domain. */
export const LANDLOCK_DOMAIN_OP = 'landlock';

/** Attaches for `pidns`; throws with the failing step (EPERM: no CAP_BPF and CAP_PERFMON). */
export function startTracer(addon: TracerAddon, pidns: PidNamespace, violations: ViolationStream, onLandlockDomain: (pid: number) => void = () => {}): Tracer {
  const handle = addon.ebpfMonitor(pidns.dev, pidns.inode, (event) => {
    if (event.op === LANDLOCK_DOMAIN_OP) onLandlockDomain(event.pid);
    else violations.emit(ebpfViolation(event));
  });
  let stopped: Promise<number> | undefined;
  return { stop: () => (stopped ??= new Promise((resolve) => handle.stop(resolve))) };
}
