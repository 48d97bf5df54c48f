/** Linux capability sets as /proc/<pid>/status shows them. Pure. */

export const CAP_SYS_ADMIN = 21;
export const CAP_BPF = 39;
export const CAP_PERFMON = 38;

/** The effective set (`CapEff:` hex) of a /proc/<pid>/status text; 0n when absent. */
export function effectiveCapabilities(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasCapability(set: bigint, cap: number): boolean {
  return ((set >> BigInt(cap)) & 1n) === 1n;
}

/** Whether the set may load tracing BPF programs: CAP_BPF (5.8+) or, as before it, CAP_SYS_ADMIN. */
export function canLoadBpf(set: bigint): boolean {
  return hasCapability(set, CAP_BPF) || hasCapability(set, CAP_SYS_ADMIN);
}
