/**
 * Syscall numbers for the architectures Fence filters, only those the filter (and its tests)
 * name. x86_64 from <asm/unistd_64.h>; aarch64 uses the asm-generic table (<asm-generic/unistd.h>),
 * which has no ioperm/iopl.
 */

export type SeccompArch = 'x86_64' | 'aarch64';

export const SECCOMP_ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];

/** AUDIT_ARCH_* from <linux/audit.h>: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** The x32 ABI shares AUDIT_ARCH_X86_64 and marks its syscall numbers with this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

const x86_64 = {
  read: 0,
  write: 1,
  ioctl: 16,
  socket: 41,
  socketpair: 53,
  clone: 56,
  execve: 59,
  ptrace: 101,
  syslog: 103,
  personality: 135,
  pivot_root: 155,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  openat: 257,
  unshare: 272,
  perf_event_open: 298,
  prlimit64: 302,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  execveat: 322,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  clone3: 435,
} as const;

export type SyscallName = keyof typeof x86_64;

/** Every syscall the tables know (x86_64 has them all). */
export const SYSCALL_NAMES = Object.keys(x86_64) as readonly SyscallName[];

const aarch64: Readonly<Partial<Record<SyscallName, number>>> = {
  ioctl: 29,
  umount2: 39,
  mount: 40,
  pivot_root: 41,
  openat: 56,
  read: 63,
  write: 64,
  acct: 89,
  personality: 92,
  unshare: 97,
  kexec_load: 104,
  init_module: 105,
  delete_module: 106,
  syslog: 116,
  ptrace: 117,
  reboot: 142,
  sethostname: 161,
  setdomainname: 162,
  socket: 198,
  socketpair: 199,
  add_key: 217,
  request_key: 218,
  keyctl: 219,
  clone: 220,
  execve: 221,
  swapon: 224,
  swapoff: 225,
  perf_event_open: 241,
  prlimit64: 261,
  process_vm_readv: 270,
  process_vm_writev: 271,
  finit_module: 273,
  bpf: 280,
  execveat: 281,
  userfaultfd: 282,
  kexec_file_load: 294,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  clone3: 435,
};

const tables: Readonly<Record<SeccompArch, Readonly<Partial<Record<SyscallName, number>>>>> = { x86_64, aarch64 };

/** The syscall's number on `arch`, or undefined when the architecture has no such syscall. */
export function syscallNumber(arch: SeccompArch, name: SyscallName): number | undefined {
  return tables[arch][name];
}

/** Maps Node's `process.arch` to a filterable architecture; undefined for the others. */
export function seccompArchOf(nodeArch: string): SeccompArch | undefined {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  return undefined;
}
