/** @fence/syscalls: the syscall table of the architectures Fence filters (data, no effects). */
export {
  AUDIT_ARCH,
  SECCOMP_ARCHES,
  seccompArchOf,
  SYSCALL_NAMES,
  syscallNumber,
  X32_SYSCALL_BIT,
  type SeccompArch,
  type SyscallName,
} from './syscalls.js';
