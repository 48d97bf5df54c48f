import { describe, expect, it } from 'vitest';
import {
  buildSeccompProgram,
  describeSeccompProgram,
  ENOSYS,
  EPERM,
  notifySeccompProgram,
  SECCOMP_RET,
  seccompOptionsFor,
  splitSeccompPrograms,
} from '../src/seccomp-filter.js';
import {
  AF_UNIX,
  AF_VSOCK,
  CLONE_NEWUSER,
  DANGEROUS_SYSCALLS,
  TIOCLINUX,
  TIOCSTI,
  type SeccompOptions,
} from '../src/seccomp-rules.js';
import { AUDIT_ARCH, SECCOMP_ARCHES, syscallNumber, type SeccompArch, type SyscallName } from '@fence/syscalls';
import { runBpf, runStack, type SeccompData } from './bpf-interpreter.js';

const ALLOW = SECCOMP_RET.ALLOW;
const DENY_EPERM = SECCOMP_RET.ERRNO | EPERM;
const DENY_ENOSYS = SECCOMP_RET.ERRNO | ENOSYS;
const KILL = SECCOMP_RET.KILL_PROCESS;
const SIGCHLD = 17;
const AF_INET = 2;
const TCGETS = 0x5401;

/**
 * The combined program's decision, after checking that the split programs, stacked as the helper
 * installs them (quiet last, so newest), decide the same, and that with the notify program in
 * place of the logged one exactly the EPERM denials go to the supervisor: every case below proves it.
 */
function decide(options: SeccompOptions, data: SeccompData): number {
  const combined = runBpf(buildSeccompProgram(options), data);
  const { logged, quiet } = splitSeccompPrograms(options);
  expect(runStack(quiet ? [quiet, logged] : [logged], data)).toBe(combined);
  const notify = notifySeccompProgram(options);
  const supervised = runStack(quiet ? [quiet, notify] : [notify], data);
  const quietDenial = quiet !== undefined && runBpf(quiet, data) !== ALLOW;
  expect(supervised).toBe(combined === DENY_EPERM && !quietDenial ? SECCOMP_RET.USER_NOTIF : combined);
  return combined;
}

function evaluate(arch: SeccompArch, name: SyscallName, args: readonly bigint[] = [], allowUnixSockets = false): number {
  const nr = syscallNumber(arch, name);
  if (nr === undefined) throw new Error(`${name} has no number on ${arch}`);
  return decide({ arch, allowUnixSockets }, { nr, arch: AUDIT_ARCH[arch], args });
}

describe.each(SECCOMP_ARCHES)('buildSeccompProgram on %s', (arch) => {
  const listed = DANGEROUS_SYSCALLS.map(([name]) => name).filter((n) => syscallNumber(arch, n) !== undefined);

  it('refuses every listed dangerous syscall with EPERM', () => {
    for (const name of listed) expect([name, evaluate(arch, name, [1n, 2n])]).toEqual([name, DENY_EPERM]);
  });

  it('lists 27 syscalls with personality on x86_64 and 25 on aarch64', () => {
    expect(listed.length + 1).toBe(arch === 'x86_64' ? 27 : 25);
  });

  it('refuses io_uring_setup, io_uring_enter and io_uring_register', () => {
    for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register'] as const) {
      expect(evaluate(arch, name)).toBe(DENY_EPERM);
    }
  });

  it('refuses personality changes but allows the query and PER_LINUX', () => {
    expect(evaluate(arch, 'personality', [1n])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'personality', [0x0040000n])).toBe(DENY_EPERM); // ADDR_NO_RANDOMIZE
    expect(evaluate(arch, 'personality', [0xffffffffn])).toBe(ALLOW);
    expect(evaluate(arch, 'personality', [0n])).toBe(ALLOW);
  });

  it('refuses unshare and clone with CLONE_NEWUSER but allows them without', () => {
    expect(evaluate(arch, 'unshare', [BigInt(CLONE_NEWUSER)])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'unshare', [BigInt(CLONE_NEWUSER | 0x20000)])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'clone', [BigInt(CLONE_NEWUSER | SIGCHLD)])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'unshare', [0x20000n])).toBe(ALLOW); // CLONE_NEWNS
    expect(evaluate(arch, 'clone', [BigInt(SIGCHLD)])).toBe(ALLOW); // fork
    expect(evaluate(arch, 'clone', [0x3d0f00n])).toBe(ALLOW); // pthread_create's flags
  });

  it('answers clone3 with ENOSYS so libc falls back to clone', () => {
    expect(evaluate(arch, 'clone3', [0n, 88n])).toBe(DENY_ENOSYS);
  });

  it('refuses TIOCSTI and TIOCLINUX, even with high bits set in the request', () => {
    expect(evaluate(arch, 'ioctl', [0n, BigInt(TIOCSTI)])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'ioctl', [0n, BigInt(TIOCLINUX)])).toBe(DENY_EPERM);
    // The kernel reads the request as an unsigned int, so the upper half must not matter.
    expect(evaluate(arch, 'ioctl', [0n, (1n << 32n) | BigInt(TIOCSTI)])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'ioctl', [0n, BigInt(TCGETS)])).toBe(ALLOW);
  });

  it('refuses AF_VSOCK and AF_UNIX sockets and datagram socketpairs, but allows AF_INET and stream socketpairs', () => {
    expect(evaluate(arch, 'socket', [BigInt(AF_VSOCK), 1n])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'socket', [BigInt(AF_UNIX), 1n])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'socket', [(1n << 32n) | BigInt(AF_UNIX), 1n])).toBe(DENY_EPERM);
    expect(evaluate(arch, 'socket', [BigInt(AF_INET), 1n])).toBe(ALLOW);
    expect(evaluate(arch, 'socketpair', [BigInt(AF_UNIX), 1n])).toBe(ALLOW);
    expect(evaluate(arch, 'socketpair', [BigInt(AF_UNIX), 1n | 0x80000n])).toBe(ALLOW);
    for (const flags of [0n, 0x800n, 0x80000n, 0x80800n]) expect(evaluate(arch, 'socketpair', [BigInt(AF_UNIX), 2n | flags])).toBe(DENY_EPERM);
  });

  it('allows AF_UNIX sockets when the policy allows Unix sockets, still refusing AF_VSOCK', () => {
    expect(evaluate(arch, 'socket', [BigInt(AF_UNIX), 1n], true)).toBe(ALLOW);
    expect(evaluate(arch, 'socketpair', [BigInt(AF_UNIX), 2n], true)).toBe(ALLOW);
    expect(evaluate(arch, 'socket', [BigInt(AF_VSOCK), 1n], true)).toBe(DENY_EPERM);
  });

  it('allows ordinary syscalls', () => {
    for (const name of ['read', 'write', 'openat', 'execve'] as const) expect(evaluate(arch, name)).toBe(ALLOW);
  });

  it('kills the process when the architecture is not the expected one', () => {
    const other = arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
    const options = { arch, allowUnixSockets: false };
    expect(decide(options, { nr: 0, arch: other })).toBe(KILL);
    expect(decide(options, { nr: 0, arch: 0x40000003 })).toBe(KILL); // AUDIT_ARCH_I386
    // Each filter of the split kills on its own too, so neither depends on the other's header.
    const { logged, quiet } = splitSeccompPrograms(options);
    for (const program of [logged, quiet!]) expect(runBpf(program, { nr: 0, arch: other })).toBe(KILL);
  });

  it('splits off socket(AF_UNIX) and clone3 into the quiet program', () => {
    const socket = syscallNumber(arch, 'socket')!;
    const data = (domain: number): SeccompData => ({ nr: socket, arch: AUDIT_ARCH[arch], args: [BigInt(domain), 1n] });
    const { logged, quiet } = splitSeccompPrograms({ arch, allowUnixSockets: false });
    expect(runBpf(logged, data(AF_UNIX))).toBe(ALLOW);
    expect(runBpf(logged, data(AF_VSOCK))).toBe(DENY_EPERM);
    expect(runBpf(quiet!, data(AF_UNIX))).toBe(DENY_EPERM);
    expect(runBpf(quiet!, data(AF_VSOCK))).toBe(ALLOW);
    for (const name of listed) expect(runBpf(quiet!, { nr: syscallNumber(arch, name)!, arch: AUDIT_ARCH[arch] })).toBe(ALLOW);
    // clone3's ENOSYS is libc's cue to use clone, not a violation: never logged, never notified.
    const clone3 = { nr: syscallNumber(arch, 'clone3')!, arch: AUDIT_ARCH[arch] };
    expect(runBpf(logged, clone3)).toBe(ALLOW);
    expect(runBpf(quiet!, clone3)).toBe(DENY_ENOSYS);
    expect(runBpf(notifySeccompProgram({ arch, allowUnixSockets: false }), clone3)).toBe(ALLOW);
    // Allowing Unix sockets leaves clone3 alone in the quiet program.
    const open = splitSeccompPrograms({ arch, allowUnixSockets: true });
    expect(runBpf(open.quiet!, data(AF_UNIX))).toBe(ALLOW);
    expect(runBpf(open.quiet!, clone3)).toBe(DENY_ENOSYS);
  });

  it('sends only EPERM denials to the supervisor in the notify program', () => {
    const notify = notifySeccompProgram({ arch, allowUnixSockets: false });
    for (const name of listed) expect(runBpf(notify, { nr: syscallNumber(arch, name)!, arch: AUDIT_ARCH[arch], args: [1n] })).toBe(SECCOMP_RET.USER_NOTIF);
    for (const name of ['read', 'write', 'openat', 'execve'] as const) expect(runBpf(notify, { nr: syscallNumber(arch, name)!, arch: AUDIT_ARCH[arch] })).toBe(ALLOW);
    const other = arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
    expect(runBpf(notify, { nr: 0, arch: other })).toBe(KILL);
  });

  it('describes what it refuses, in one line per outcome', () => {
    const d = describeSeccompProgram({ arch, allowUnixSockets: false });
    expect(d.instructions).toBe(buildSeccompProgram({ arch, allowUnixSockets: false }).length / 8);
    expect(d.lines[1]).toMatch(/^EPERM: ptrace, process_vm_readv, .*personality unless 0xffffffff \(query\) or PER_LINUX/);
    expect(d.lines[1]).toContain('unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER), prlimit64 unless pid 0 (the caller), ioctl(TIOCSTI, TIOCLINUX), socket(AF_VSOCK), socket(AF_UNIX)');
    expect(d.lines[1]!.includes('iopl')).toBe(arch === 'x86_64');
    expect(d.lines[2]).toBe('ENOSYS: clone3 (libc falls back to clone)');
    expect(d.lines[4]).toBe('not logged: clone3, libc tries it first at every thread or process creation, then uses clone');
    expect(d.lines[5]).toBe('not logged: socket(AF_UNIX), glibc tries it at nearly every start (nscd lookups)');
    expect(describeSeccompProgram({ arch, allowUnixSockets: true }).lines).toHaveLength(5);
  });
});

describe('buildSeccompProgram on x86_64 only', () => {
  const run = (nr: number) => decide({ arch: 'x86_64', allowUnixSockets: false }, { nr, arch: AUDIT_ARCH.x86_64 });

  it('kills x32 syscalls, whatever their number', () => {
    expect(run(0x40000000)).toBe(KILL); // x32 read
    expect(run(0x40000000 + 101)).toBe(KILL); // x32 ptrace
    expect(run(0x40000000 + 512 + 9)).toBe(KILL); // x32-only compat numbers
  });

  it('lets the tracer-skip number -1 through', () => {
    expect(run(0xffffffff)).toBe(ALLOW);
  });

  it('ignores syscall numbers an architecture does not know', () => {
    expect(run(9999)).toBe(ALLOW);
  });
});

describe('seccompOptionsFor', () => {
  const network = (allowUnixSockets: string[], allowAllUnixSockets: boolean) => ({
    network: { allowUnixSockets, allowAllUnixSockets },
  });

  it('allows AF_UNIX when the policy lists a socket path or allows all', () => {
    expect(seccompOptionsFor(network([], false), 'x86_64').allowUnixSockets).toBe(false);
    expect(seccompOptionsFor(network(['/run/x.sock'], false), 'x86_64').allowUnixSockets).toBe(true);
    expect(seccompOptionsFor(network([], true), 'aarch64')).toEqual({ arch: 'aarch64', allowUnixSockets: true });
  });
});
