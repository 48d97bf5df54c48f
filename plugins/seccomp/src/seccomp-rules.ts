/**
 * What the filter refuses, as data. The program (seccomp-filter.ts) and its description for `-d`
 * and the README are both generated from this one table.
 */
import type { SeccompArch, SyscallName } from '@fence/syscalls';
import { syscallNumber } from '@fence/syscalls';

/** `supervise`: the call waits for the supervisor's verdict (only in the notify program). */
export type SeccompAction = 'eperm' | 'enosys' | 'supervise';

/** A test on the low 32 bits of a syscall argument (every argument tested here is an int). */
export type ArgTest =
  | { readonly arg: number; readonly equals: readonly number[]; readonly names: string }
  | { readonly arg: number; readonly hasBits: number; readonly names: string };

export interface SeccompRule {
  readonly syscall: SyscallName;
  readonly action: SeccompAction;
  /** Applies only when the argument matches. */
  readonly when?: ArgTest;
  /** Does not apply when the argument matches. */
  readonly unless?: ArgTest;
  readonly why: string;
  /**
   * Why its denials are not logged: the rule goes into the quiet program, installed without
   * SECCOMP_FILTER_FLAG_LOG, because ordinary programs trip it all the time.
   */
  readonly quiet?: string;
}

export interface SeccompOptions {
  readonly arch: SeccompArch;
  /** When false, socket(AF_UNIX) and datagram socketpairs are refused (stream socketpairs stay allowed). */
  readonly allowUnixSockets: boolean;
  /** Send every execve/execveat to the supervisor (command.runtimeExecPolicy "argv"). */
  readonly superviseExec?: boolean;
}

/** The supervised calls of `superviseExec`: the supervisor lets each go on or refuses it. */
export const EXEC_RULES: readonly SeccompRule[] = (['execve', 'execveat'] as const).map((syscall) => ({
  syscall,
  action: 'supervise',
  why: 'command.runtimeExecPolicy "argv": the command rules are applied to the argument vector',
}));

export const CLONE_NEWUSER = 0x10000000;
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
export const AF_UNIX = 1;
export const AF_VSOCK = 40;
export const SOCK_DGRAM = 2;
/** SOCK_NONBLOCK and SOCK_CLOEXEC, which may be or-ed into a socket type. */
const SOCK_TYPE_FLAGS = [0, 0x800, 0x80000, 0x80800];
/** personality(0xffffffff) only queries the persona; glibc and CPython call it. */
export const PERSONALITY_QUERY = 0xffffffff;
export const PER_LINUX = 0;

/** Refused outright with EPERM; with personality these are SPEC's 27 (25 on aarch64: no ioperm/iopl). */
export const DANGEROUS_SYSCALLS: readonly (readonly [SyscallName, string])[] = [
  ['ptrace', 'process debugging and injection'],
  ['process_vm_readv', "reads another process's memory"],
  ['process_vm_writev', "writes another process's memory"],
  ['keyctl', 'kernel keyring access'],
  ['add_key', 'kernel keyring access'],
  ['request_key', 'kernel keyring access'],
  ['userfaultfd', 'user-space page faults widen kernel race windows (exploit primitive)'],
  ['perf_event_open', 'performance counters leak kernel and process information'],
  ['bpf', 'loads eBPF programs into the kernel'],
  ['kexec_load', 'replaces the running kernel'],
  ['kexec_file_load', 'replaces the running kernel'],
  ['reboot', 'reboots the machine'],
  ['syslog', 'reads the kernel log'],
  ['acct', 'switches process accounting'],
  ['mount', 'changes the filesystem layout'],
  ['umount2', 'changes the filesystem layout'],
  ['pivot_root', 'changes the filesystem layout'],
  ['swapon', 'changes swap devices'],
  ['swapoff', 'changes swap devices'],
  ['sethostname', 'renames the host'],
  ['setdomainname', 'renames the host'],
  ['init_module', 'loads kernel modules'],
  ['finit_module', 'loads kernel modules'],
  ['delete_module', 'unloads kernel modules'],
  ['ioperm', 'raw I/O port access'],
  ['iopl', 'raw I/O port access'],
];

/**
 * The rules for one architecture, in evaluation order. Syscalls the architecture lacks are left
 * out (their numbers do not exist, so nothing can call them).
 */
export function seccompRules(options: SeccompOptions): SeccompRule[] {
  const rules: SeccompRule[] = [
    ...DANGEROUS_SYSCALLS.map(([syscall, why]): SeccompRule => ({ syscall, action: 'eperm', why })),
    {
      syscall: 'personality',
      action: 'eperm',
      unless: { arg: 0, equals: [PERSONALITY_QUERY, PER_LINUX], names: '0xffffffff (query) or PER_LINUX' },
      why: 'ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC weaken ASLR and NX',
    },
    ...(['io_uring_setup', 'io_uring_enter', 'io_uring_register'] as const).map(
      (syscall): SeccompRule => ({ syscall, action: 'eperm', why: 'io_uring bypasses syscall filtering and is a frequent exploit target' }),
    ),
    ...(['unshare', 'clone'] as const).map(
      (syscall): SeccompRule => ({
        syscall,
        action: 'eperm',
        when: { arg: 0, hasBits: CLONE_NEWUSER, names: 'CLONE_NEWUSER' },
        why: 'a nested user namespace regains capabilities over new namespaces',
      }),
    ),
    {
      syscall: 'prlimit64',
      action: 'eperm',
      unless: { arg: 0, equals: [0], names: 'pid 0 (the caller)' },
      // Landlock's scope stops signals to them, not this: a descriptor limit of 3 ends the relay.
      why: "another process's limits: Fence's relay (proxies, DNS stub, capture) and creation guard run inside as the command's user",
    },
    {
      syscall: 'clone3',
      action: 'enosys',
      // Its flags live in a struct in memory, which seccomp cannot read; ENOSYS makes libc use clone.
      why: 'flags are out of reach of the filter; libc falls back to clone',
      // Not a violation: nothing was refused that the program needed (-m must not report it).
      quiet: 'libc tries it first at every thread or process creation, then uses clone',
    },
    {
      syscall: 'ioctl',
      action: 'eperm',
      when: { arg: 1, equals: [TIOCSTI, TIOCLINUX], names: 'TIOCSTI, TIOCLINUX' },
      why: 'injects input into the controlling terminal outside the sandbox',
    },
    {
      syscall: 'socket',
      action: 'eperm',
      when: { arg: 0, equals: [AF_VSOCK], names: 'AF_VSOCK' },
      why: 'talks to the hypervisor and other VMs, outside the network namespace',
    },
  ];
  if (!options.allowUnixSockets) {
    rules.push({
      syscall: 'socket',
      action: 'eperm',
      when: { arg: 0, equals: [AF_UNIX], names: 'AF_UNIX' },
      why: 'Unix sockets reach host services through the shared filesystem',
      quiet: 'glibc tries it at nearly every start (nscd lookups)',
    });
    rules.push({
      syscall: 'socketpair',
      action: 'eperm',
      when: { arg: 1, equals: SOCK_TYPE_FLAGS.map((f) => SOCK_DGRAM | f), names: 'SOCK_DGRAM' },
      // A stream pair is connected for good; a datagram socket can sendto() any path it sees.
      why: 'a datagram Unix socket can send to any host datagram socket (journald, syslog)',
    });
  }
  return rules.filter((r) => syscallNumber(options.arch, r.syscall) !== undefined);
}

/** `ioctl(TIOCSTI, TIOCLINUX)`, `personality unless 0xffffffff (query) or PER_LINUX`, `ptrace`. */
export function ruleTarget(rule: SeccompRule): string {
  if (rule.when) return `${rule.syscall}(${rule.when.names})`;
  if (rule.unless) return `${rule.syscall} unless ${rule.unless.names}`;
  return rule.syscall;
}
