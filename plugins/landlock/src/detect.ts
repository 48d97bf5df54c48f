/**
 * Detection: the kernel's Landlock ABI and errata (through @fence/native) and whether the
 * in-sandbox helper that applies the ruleset exists. Landlock is never applied in Node itself.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { Availability, FeatureLine } from '@fence/core';
import { LANDLOCK_ABI_KERNEL, LANDLOCK_ABI_MAX } from './landlock-rules.js';
import { loadNative, type NativeModule } from '@fence/linux-helper';

const ENOSYS = 38;
const EOPNOTSUPP = 95;

export const REASONS = {
  noHelper: 'no native helper: build @fence/native (needs a C compiler)',
  noKernelSupport: 'kernel has no Landlock (needs 5.13+)',
  disabledAtBoot: 'Landlock disabled at boot (lsm=): add "landlock" to the lsm= kernel parameter',
} as const;

interface Probed {
  readonly abi?: number;
  readonly errata?: number;
  readonly helper?: string;
}

function probe(native: NativeModule | undefined): Probed {
  if (!native) return {};
  try {
    const addon = native.addon();
    const abi = addon?.landlockAbiVersion();
    // Kernels before the errata query (ABI < 7) answer -EINVAL: no errata to report.
    const errata = abi !== undefined && abi >= 1 ? Math.max(0, addon?.landlockErrata() ?? 0) : undefined;
    return { abi, errata, helper: native.helperPath() };
  } catch {
    // A broken native build (wrong arch, missing symbol) counts as no helper.
    return {};
  }
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [maj = 0, min = 0] = release().split('.').map((n) => Number.parseInt(n, 10));
  return maj > major || (maj === major && min >= minor);
}

/** Landlock is compiled in but not in the boot-time LSM list. */
function lsmListLacksLandlock(): boolean {
  try {
    return !readFileSync('/sys/kernel/security/lsm', 'utf8').split(',').includes('landlock');
  } catch {
    return false; // securityfs not mounted: cannot tell
  }
}

/** Why the kernel offers no Landlock, from the probe's errno when it has one. */
function kernelReason(abi: number | undefined): string | undefined {
  if (abi !== undefined && abi >= 1) return undefined;
  if (!kernelAtLeast(5, 13) || abi === -ENOSYS) return REASONS.noKernelSupport;
  if (abi === undefined) return undefined; // no addon to ask
  if (abi === -EOPNOTSUPP || lsmListLacksLandlock()) return REASONS.disabledAtBoot;
  return REASONS.noKernelSupport;
}

/** What this ABI adds up to, and what newer kernels would add, in one line. */
export function abiConsequence(abi: number): string {
  const additions: [number, string][] = [
    [4, 'TCP ports'],
    [5, 'device ioctl'],
    [6, 'signal and abstract-socket scoping'],
    [7, 'denials audited after exec'],
  ];
  const has = ['writes only to /tmp, /dev and allowWrite', ...additions.filter(([v]) => abi >= v).map(([, what]) => what)];
  const lacks = additions.filter(([v]) => abi < v).map(([v, what]) => `${what} (v${v}, ${LANDLOCK_ABI_KERNEL[v]}+)`);
  const enforced = `kernel enforces ${has.join(', ')}`;
  return lacks.length ? `${enforced}; not enforced: ${lacks.join(', ')}` : enforced;
}

function featureLine(p: Probed, reason: string | undefined): FeatureLine {
  const value = p.abi !== undefined && p.abi >= 1 ? `ABI v${p.abi}` : 'none';
  if (!reason) return { mark: '✓', name: 'Landlock', value, consequence: abiConsequence(p.abi!) };
  const mark = value === 'none' ? '✗' : '○';
  return { mark, name: 'Landlock', value, consequence: `${reason}; writes are limited by bwrap mounts only` };
}

export async function detectLandlock(): Promise<Availability> {
  const probed = probe(await loadNative());
  // Without the addon the ABI is unknown, and without the helper nothing can apply a ruleset.
  const helperMissing = probed.abi === undefined || !probed.helper;
  const reason = kernelReason(probed.abi) ?? (helperMissing ? REASONS.noHelper : undefined);
  const features = [featureLine(probed, reason)];
  // Without a network namespace bwrap's own warning says what Landlock's absence costs the network.
  if (reason) return { status: 'absent', reason, features, warning: `off (${reason}): writes are confined by bwrap's mounts alone, with no second check in the kernel` };
  const abi = probed.abi!;
  return {
    status: 'available',
    summary: `landlock-v${Math.min(abi, LANDLOCK_ABI_MAX)}(wrapper)`,
    features,
    facts: { abi, errata: probed.errata ?? 0 },
  };
}
