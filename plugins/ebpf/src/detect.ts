/**
 * Detection, by trying: may this process load the monitor's program (the addon loads it without
 * attaching: this is the only test that is right inside a user namespace, under a seccomp policy
 * or a lockdown kernel), may it read the kernel's audit records, and is the audit on (Landlock
 * logs nothing while it is off). These answers can change without any file changing, so they are
 * never cached on disk.
 */
import { closeSync, readFileSync } from 'node:fs';
import type { Availability, FeatureLine } from '@fence/core';
import { canLoadBpf, CAP_BPF, effectiveCapabilities, hasCapability } from './capabilities.js';
import { loadTracerAddon, type MonitorAddon } from './tracer.js';

export const REASONS = {
  noAddon: 'the native addon is not built (npm rebuild @fence/native)',
  userNamespace: 'Fence runs in a user namespace: eBPF needs root (or CAP_BPF and CAP_PERFMON) on the host',
  noCapability: 'needs root (or CAP_BPF and CAP_PERFMON): run fence as root',
  auditUserNamespace: "Fence runs in a user namespace: the kernel's audit records reach only the host's root",
  auditNoCapability: "reading the kernel's audit records needs root (CAP_AUDIT_READ and CAP_AUDIT_CONTROL): run fence as root",
  auditOff: "the kernel's audit is off (turn it on: auditctl -e 1, from the auditd package, or boot with audit=1)",
} as const;

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
function ebpfRefusal(addon: MonitorAddon | undefined, caps: bigint): string | undefined {
  if (!addon) return REASONS.noAddon;
  const refused = addon.ebpfProbe();
  if (!refused) return undefined;
  if (inUserNamespace()) return REASONS.userNamespace;
  if (!canLoadBpf(caps)) return REASONS.noCapability;
  return `the kernel refused the monitor's program (${refused})`;
}

/** Why Landlock's audit records cannot be shown here, or undefined when they can. */
function auditRefusal(addon: MonitorAddon | undefined, ebpfRefused: string | undefined): string | undefined {
  if (!addon) return REASONS.noAddon;
  const state = addon.auditState();
  if (typeof state === 'number') return inUserNamespace() ? REASONS.auditUserNamespace : REASONS.auditNoCapability;
  try {
    closeSync(addon.auditOpen());
  } catch {
    return REASONS.auditNoCapability;
  }
  if (state.enabled === 0) return REASONS.auditOff;
  // The records name a domain and its creator; only the eBPF monitor knows the sandbox's creators.
  if (ebpfRefused) return `attributing them to the sandbox needs the eBPF monitor (${ebpfRefused})`;
  return undefined;
}

export async function detectEbpf(): Promise<Availability> {
  const caps = effectiveCapabilities(read('/proc/self/status'));
  const root = process.getuid?.() === 0;
  const addon = await loadTracerAddon();
  const refusal = ebpfRefusal(addon, caps);
  const auditRefused = auditRefusal(addon, refusal);
  const value = `CAP_BPF: ${hasCapability(caps, CAP_BPF) ? 'yes' : 'no'}, root: ${root ? 'yes' : 'no'}${inUserNamespace() ? ', in a user namespace' : ''}`;
  const features: FeatureLine[] = [
    refusal
      ? { mark: '✗', name: 'eBPF', value, consequence: `-m shows no file, exec or connect denials: ${refusal}` }
      : { mark: '✓', name: 'eBPF', value: `${value}, prebuilt program`, consequence: '-m shows failing open/mkdir/unlink/rename/exec/connect of the sandbox' },
    auditRefused
      ? { mark: '○', name: 'Audit', value: auditRefused === REASONS.auditOff ? 'off' : 'records not shown', consequence: `-m shows no Landlock denials: ${auditRefused}` }
      : { mark: '✓', name: 'Audit', value: 'on, records read as they are emitted (netlink read-log group)', consequence: "-m shows Landlock denials, by the sandbox's Landlock domains" },
  ];
  // The creation guard's refusals are file denials too (EPERM from its seccomp answer): the eBPF
  // monitor is what counts them, so without it the summary leaves them out.
  const guard = "the creation guard's refusals in its count (its own `fence: refused to …` lines still show each)";
  const unseen = [...(refusal ? [`file, exec and connect denials: ${refusal}`, guard] : []), ...(auditRefused ? [`Landlock denials: ${auditRefused}`] : [])];
  const facts = { audit: !auditRefused, ebpf: !refusal, capBpf: canLoadBpf(caps) };
  const base = { features, facts, unseen, volatile: true } as const;
  if (!refusal) return { status: 'available', summary: auditRefused ? 'ebpf' : 'audit+ebpf', ...base };
  return { status: 'absent', reason: refusal, ...base };
}
