/**
 * Names for the syscall numbers in seccomp audit records, from the seccomp layer's own table
 * (the syscalls it refuses are the ones its records name). Loaded lazily and optional: without
 * @fence/plugin-seccomp the records keep their numbers.
 */
import type { SyscallNamer } from './kmsg-audit.js';

export async function seccompSyscallNamer(): Promise<SyscallNamer | undefined> {
  try {
    const { AUDIT_ARCH, SECCOMP_ARCHES, SYSCALL_NAMES, syscallNumber } = await import('@fence/plugin-seccomp');
    // Audit records give the architecture as the AUDIT_ARCH value in hex (c000003e).
    const tables = new Map(
      SECCOMP_ARCHES.map((arch) => [AUDIT_ARCH[arch].toString(16), new Map(SYSCALL_NAMES.map((n) => [syscallNumber(arch, n), n] as const))] as const),
    );
    return (arch, nr) => tables.get(arch.toLowerCase())?.get(nr);
  } catch {
    return undefined;
  }
}
