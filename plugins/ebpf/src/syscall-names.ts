/**
 * Names for the syscall numbers in seccomp audit records, from the shared syscall table (the
 * syscalls the seccomp layer refuses are the ones its records name).
 */
import { AUDIT_ARCH, SECCOMP_ARCHES, SYSCALL_NAMES, syscallNumber } from '@fence/syscalls';
import type { SyscallNamer } from './kmsg-audit.js';

let tables: Map<string, Map<number | undefined, string>> | undefined;

export const seccompSyscallName: SyscallNamer = (arch, nr) => {
  // Audit records give the architecture as the AUDIT_ARCH value in hex (c000003e). Built on first use: only -m reads records.
  tables ??= new Map(SECCOMP_ARCHES.map((a) => [AUDIT_ARCH[a].toString(16), new Map(SYSCALL_NAMES.map((n) => [syscallNumber(a, n), n]))]));
  return tables.get(arch.toLowerCase())?.get(nr);
};
