/**
 * A denied syscall as the supervisor received it (SECCOMP_IOCTL_NOTIF_RECV), turned into a
 * violation with its arguments decoded: `ptrace(PTRACE_ATTACH, pid 1): Operation not permitted
 * (strace, pid=4711)`. Pure. Only the syscalls the notify program sends can arrive; pointer
 * arguments are not read (the process's memory is its own to change), numbers are named.
 */
import type { Violation } from '@fence/core';
import { AF_UNIX, AF_VSOCK, CLONE_NEWUSER, TIOCLINUX, TIOCSTI } from './seccomp-rules.js';
import { AUDIT_ARCH, SECCOMP_ARCHES, SYSCALL_NAMES, syscallNumber, type SyscallName } from '@fence/syscalls';

/** What the addon's supervisor reports. */
export interface NotifyEvent {
  /** ms since the epoch, when the supervisor received it (the caller is still waiting). */
  readonly time: number;
  /** Host pid (thread group) and thread id of the caller. */
  readonly pid: number;
  readonly tid: number;
  /** /proc/<tid>/status Name; '' when the caller was gone before it could be read. */
  readonly comm: string;
  readonly nr: number;
  /** AUDIT_ARCH_* of the call. */
  readonly arch: number;
  readonly args: readonly bigint[];
}

/** The supervisor's answer to every notification (the notify program sends only EPERM rules). */
export const SUPERVISOR_REASON = 'Operation not permitted';

const PTRACE_REQUESTS: Readonly<Record<number, string>> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 4: 'PTRACE_POKETEXT', 5: 'PTRACE_POKEDATA',
  16: 'PTRACE_ATTACH', 17: 'PTRACE_DETACH', 0x4206: 'PTRACE_SEIZE',
};
const FAMILIES: Readonly<Record<number, string>> = { [AF_UNIX]: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET', [AF_VSOCK]: 'AF_VSOCK' };
const RLIMITS: readonly string[] = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'].map((r) => `RLIMIT_${r}`);
const IOCTLS: Readonly<Record<number, string>> = { [TIOCSTI]: 'TIOCSTI', [TIOCLINUX]: 'TIOCLINUX' };
const CLONE_NS: readonly (readonly [number, string])[] = [
  [0x00020000, 'CLONE_NEWNS'], [0x02000000, 'CLONE_NEWCGROUP'], [0x04000000, 'CLONE_NEWUTS'], [0x08000000, 'CLONE_NEWIPC'],
  [CLONE_NEWUSER, 'CLONE_NEWUSER'], [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'],
];

const int = (v: bigint | undefined): number => Number(BigInt.asIntN(32, v ?? 0n));
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const named = (table: Readonly<Record<number, string>>, v: number): string => table[v] ?? String(v);
const nsFlags = (v: number): string => CLONE_NS.filter(([bit]) => (v & bit) !== 0).map(([, n]) => n).join('|') || hex(v);

/** The decoded argument list of the calls worth decoding; the others show no arguments. */
const DECODERS: Partial<Record<SyscallName, (a: readonly bigint[]) => string>> = {
  ptrace: (a) => `${named(PTRACE_REQUESTS, int(a[0]))}${int(a[0]) === 0 ? '' : `, pid ${int(a[1])}`}`,
  process_vm_readv: (a) => `pid ${int(a[0])}`,
  process_vm_writev: (a) => `pid ${int(a[0])}`,
  personality: (a) => hex(int(a[0])),
  ioctl: (a) => `fd ${int(a[0])}, ${named(IOCTLS, int(a[1]))}`,
  socket: (a) => named(FAMILIES, int(a[0])),
  unshare: (a) => nsFlags(int(a[0])),
  clone: (a) => nsFlags(int(a[0])),
  kexec_file_load: (a) => `fd ${int(a[0])}`,
  finit_module: (a) => `fd ${int(a[0])}`,
  bpf: (a) => `cmd ${int(a[0])}`,
  keyctl: (a) => `op ${int(a[0])}`,
  perf_event_open: (a) => `pid ${int(a[1])}, cpu ${int(a[2])}`,
  prlimit64: (a) => `pid ${int(a[0])}, ${RLIMITS[int(a[1])] ?? int(a[1])}`,
};

const byArch = new Map(
  SECCOMP_ARCHES.map((arch) => [AUDIT_ARCH[arch], new Map(SYSCALL_NAMES.map((n) => [syscallNumber(arch, n), n] as const))] as const),
);

/** `ptrace(PTRACE_ATTACH, pid 1)`, or `syscall 999` for a number the tables do not know. */
export function describeCall(event: Pick<NotifyEvent, 'arch' | 'nr' | 'args'>): string {
  const name = byArch.get(event.arch >>> 0)?.get(event.nr);
  if (!name) return `syscall ${event.nr}`;
  return `${name}(${DECODERS[name]?.(event.args) ?? ''})`;
}

export function notifyViolation(event: NotifyEvent): Violation {
  const call = describeCall(event);
  const process = event.comm || '?';
  return {
    time: event.time,
    source: 'seccomp',
    action: 'block',
    target: call,
    process: event.comm,
    pid: event.pid,
    reason: SUPERVISOR_REASON,
    detail: `${call}: ${SUPERVISOR_REASON} (${process}, pid=${event.pid})`,
  };
}
