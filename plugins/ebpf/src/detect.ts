/**
 * Detection: may this process load BPF programs (root, CAP_BPF or CAP_SYS_ADMIN), is bpftrace
 * installed, are the syscall tracepoints visible (tracefs), and is the kernel log readable
 * (seccomp audit records).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processProbe, type Availability, type FeatureLine } from '@fence/core';
import { TRACED_SYSCALLS } from './bpftrace-script.js';
import { canLoadBpf, CAP_BPF, effectiveCapabilities, hasCapability } from './capabilities.js';

export const REASONS = {
  noCapability: 'needs root or CAP_BPF',
  noBpftrace: 'bpftrace not installed: apt install bpftrace',
  noTracefs: 'syscall tracepoints not visible: mount -t tracefs nodev /sys/kernel/tracing',
} as const;

const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];


/** Names of TRACED_SYSCALLS whose sys_exit tracepoint exists on this kernel. */
export function availableSyscalls(): string[] {
  const root = TRACEFS_ROOTS.find((r) => existsSync(join(r, 'events/syscalls')));
  if (!root) return [];
  return TRACED_SYSCALLS.map((s) => s.name).filter((n) => existsSync(join(root, 'events/syscalls', `sys_exit_${n}`)));
}

function bpftraceVersion(path: string): string | undefined {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 });
  return /v?(\d+\.\d+(?:\.\d+)?)/.exec(r.stdout ?? '')?.[1];
}

export function kmsgReadable(): boolean {
  try {
    accessSync('/dev/kmsg', constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function ownCapabilities(): bigint {
  try {
    return effectiveCapabilities(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return 0n;
  }
}

export async function detectEbpf(): Promise<Availability> {
  const caps = ownCapabilities();
  const root = process.getuid?.() === 0;
  const capable = canLoadBpf(caps);
  const bpftrace = processProbe.which('bpftrace');
  const version = bpftrace ? bpftraceVersion(bpftrace) : undefined;
  const tracepoints = availableSyscalls().length > 0;
  const audit = kmsgReadable();
  const reason = !capable ? REASONS.noCapability : !bpftrace ? REASONS.noBpftrace : !tracepoints ? REASONS.noTracefs : undefined;
  const value = `CAP_BPF: ${hasCapability(caps, CAP_BPF) ? 'yes' : 'no'}, root: ${root ? 'yes' : 'no'}, bpftrace: ${version ?? (bpftrace ? 'yes' : 'no')}`;
  const features: FeatureLine[] = [
    reason
      ? { mark: capable || bpftrace ? '○' : '✗', name: 'eBPF', value, consequence: `${reason}; -m shows no file or exec denials` }
      : { mark: '✓', name: 'eBPF', value, consequence: '-m shows failing open/unlink/mkdir/rename/exec/connect of the sandbox' },
    audit
      ? { mark: '✓', name: 'Audit', value: '/dev/kmsg readable', consequence: '-m shows seccomp (and Landlock, with audit on) denials' }
      : { mark: '○', name: 'Audit', value: '/dev/kmsg not readable', consequence: 'seccomp and Landlock denials are not shown' },
  ];
  const facts = { audit, bpftrace: version ?? '', capBpf: capable };
  // Detected only under -m (see wanted()), so this is the "told once, at the start of -m" line.
  if (reason) return { status: 'absent', reason, features, facts, warning: `off (${reason}): -m shows no file, exec or connect denials` };
  return { status: 'available', summary: audit ? 'audit+ebpf' : 'ebpf', features, facts };
}
