/**
 * Detection, by trying: may this process load the monitor's program (the addon loads it without
 * attaching: this is the only test that is right inside a user namespace, under a seccomp policy
 * or a lockdown kernel), and can it open the kernel log (dmesg_restrict decides, not the file
 * mode). Both answers can change without any file changing, so they are never cached on disk.
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import type { Availability, FeatureLine } from '@fence/core';
import { canLoadBpf, CAP_BPF, effectiveCapabilities, hasCapability } from './capabilities.js';
import { loadTracerAddon, type TracerAddon } from './tracer.js';

export const REASONS = {
  noAddon: 'the native addon is not built (npm rebuild @fence/native)',
  userNamespace: 'Fence runs in a user namespace: eBPF needs root (or CAP_BPF and CAP_PERFMON) on the host',
  noCapability: 'needs root (or CAP_BPF and CAP_PERFMON): run fence as root',
  noKmsg: 'the kernel log is not readable (kernel.dmesg_restrict=1): run fence as root',
} as const;

/** Whether /dev/kmsg opens for reading (the mode says yes to everyone; dmesg_restrict may not). */
export function kmsgReadable(): boolean {
  try {
    // Opened and closed at once: no record is read.
    closeSync(openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The initial user namespace maps every id to itself. */
const inUserNamespace = (): boolean => !/^\s*0\s+0\s+4294967295\s*$/.test(read('/proc/self/uid_map'));

/** Why the program cannot be loaded here, or undefined when it can. */
function ebpfRefusal(addon: TracerAddon | undefined, caps: bigint): string | undefined {
  if (!addon) return REASONS.noAddon;
  const refused = addon.ebpfProbe();
  if (!refused) return undefined;
  if (inUserNamespace()) return REASONS.userNamespace;
  if (!canLoadBpf(caps)) return REASONS.noCapability;
  return `the kernel refused the monitor's program (${refused})`;
}

export async function detectEbpf(): Promise<Availability> {
  const caps = effectiveCapabilities(read('/proc/self/status'));
  const root = process.getuid?.() === 0;
  const addon = await loadTracerAddon();
  const refusal = ebpfRefusal(addon, caps);
  // The audit reader is the addon's too (it opens the log after its newest record).
  const audit = addon !== undefined && kmsgReadable();
  const value = `CAP_BPF: ${hasCapability(caps, CAP_BPF) ? 'yes' : 'no'}, root: ${root ? 'yes' : 'no'}${inUserNamespace() ? ', in a user namespace' : ''}`;
  const features: FeatureLine[] = [
    refusal
      ? { mark: '✗', name: 'eBPF', value, consequence: `-m shows no file, exec or connect denials: ${refusal}` }
      : { mark: '✓', name: 'eBPF', value: `${value}, prebuilt program`, consequence: '-m shows failing open/mkdir/unlink/rename/exec/connect of the sandbox' },
    audit
      ? { mark: '✓', name: 'Audit', value: '/dev/kmsg readable', consequence: '-m shows Landlock denials when the kernel audit is on' }
      : { mark: '○', name: 'Audit', value: '/dev/kmsg not readable', consequence: `-m shows no Landlock denials: ${REASONS.noKmsg}` },
  ];
  const unseen = [
    ...(refusal ? [`file, exec and connect denials: ${refusal}`] : []),
    ...(audit ? [] : [`Landlock denials: ${REASONS.noKmsg}`]),
  ];
  const facts = { audit, ebpf: !refusal, capBpf: canLoadBpf(caps) };
  const base = { features, facts, unseen, volatile: true } as const;
  if (!refusal) return { status: 'available', summary: audit ? 'audit+ebpf' : 'ebpf', ...base };
  if (audit) return { status: 'degraded', reason: refusal, summary: 'audit', ...base };
  return { status: 'absent', reason: refusal, ...base };
}
