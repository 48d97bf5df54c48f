/**
 * The eBPF monitor of one command: the addon's prebuilt program attached for the sandbox's PID
 * namespace (milliseconds), its events turned into violations. stop() detaches only after the
 * ring buffer is drained, and resolves once every event has reached the stream.
 */
import type { ViolationStream } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { ebpfViolation, type EbpfEvent } from './ebpf-event.js';
import type { PidNamespace } from './pid-namespace.js';

/** The part of @fence/native's addon the monitor uses. */
export interface TracerAddon {
  ebpfMonitor(dev: number, ino: number, onEvent: (e: EbpfEvent) => void): { stop(done: (lost: number) => void): void };
  /** Loads the program without attaching it: undefined when this process may, else why not. */
  ebpfProbe(): string | undefined;
  /** A non-blocking descriptor of /dev/kmsg after its newest record; throws (EPERM: dmesg_restrict). */
  kmsgOpen(): number;
}

export const loadTracerAddon = (): Promise<TracerAddon | undefined> => addonWith<TracerAddon>('ebpfMonitor', 'kmsgOpen');

export interface Tracer {
  /** Detaches after the last event; resolves with how many the full buffer made the kernel drop. */
  stop(): Promise<number>;
}

/** Attaches for `pidns`; throws with the failing step (EPERM: no CAP_BPF and CAP_PERFMON). */
export function startTracer(addon: TracerAddon, pidns: PidNamespace, violations: ViolationStream): Tracer {
  const handle = addon.ebpfMonitor(pidns.dev, pidns.inode, (event) => violations.emit(ebpfViolation(event)));
  let stopped: Promise<number> | undefined;
  return { stop: () => (stopped ??= new Promise((resolve) => handle.stop(resolve))) };
}
