import { describe, expect, it } from 'vitest';
import { describeCall, notifyViolation, type NotifyEvent } from '../src/notify-event.js';
import { AUDIT_ARCH, syscallNumber } from '@fence/syscalls';

const x86 = AUDIT_ARCH.x86_64;
const call = (name: Parameters<typeof syscallNumber>[1], args: bigint[], arch = x86) =>
  describeCall({ arch, nr: syscallNumber(arch === x86 ? 'x86_64' : 'aarch64', name)!, args });

describe('describeCall', () => {
  it('names ptrace requests and their target', () => {
    expect(call('ptrace', [16n, 1n])).toBe('ptrace(PTRACE_ATTACH, pid 1)');
    expect(call('ptrace', [0n, 0n])).toBe('ptrace(PTRACE_TRACEME)');
    expect(call('ptrace', [0x4206n, 77n], AUDIT_ARCH.aarch64)).toBe('ptrace(PTRACE_SEIZE, pid 77)');
  });

  it('names the refused ioctl, socket family, namespace flags and limit', () => {
    expect(call('ioctl', [0n, 0x5412n])).toBe('ioctl(fd 0, TIOCSTI)');
    expect(call('socket', [40n, 1n])).toBe('socket(AF_VSOCK)');
    expect(call('unshare', [0x10000000n | 0x20000000n])).toBe('unshare(CLONE_NEWUSER|CLONE_NEWPID)');
    expect(call('personality', [0x0040000n])).toBe('personality(0x40000)');
    expect(call('prlimit64', [4n, 7n, 0n, 0n])).toBe('prlimit64(pid 4, RLIMIT_NOFILE)');
    expect(call('prlimit64', [4n, 99n], AUDIT_ARCH.aarch64)).toBe('prlimit64(pid 4, 99)');
  });

  it('shows calls without decoder bare, and unknown numbers as numbers', () => {
    expect(call('mount', [1n, 2n])).toBe('mount()');
    expect(describeCall({ arch: x86, nr: 999, args: [] })).toBe('syscall 999');
    expect(describeCall({ arch: 0x40000003, nr: 26, args: [] })).toBe('syscall 26');
  });
});

describe('notifyViolation', () => {
  const event: NotifyEvent = { time: 1_700_000_000_000, pid: 42, tid: 43, comm: 'strace', nr: 101, arch: x86, args: [16n, 1n, 0n, 0n, 0n, 0n] };

  it('is a blocked seccomp event with the process, pid and decoded call', () => {
    expect(notifyViolation(event)).toEqual({
      time: 1_700_000_000_000,
      source: 'seccomp',
      action: 'block',
      target: 'ptrace(PTRACE_ATTACH, pid 1)',
      process: 'strace',
      pid: 42,
      reason: 'Operation not permitted',
      detail: 'ptrace(PTRACE_ATTACH, pid 1): Operation not permitted (strace, pid=42)',
    });
  });

  it('marks a process whose name could not be read', () => {
    expect(notifyViolation({ ...event, comm: '' }).detail).toBe('ptrace(PTRACE_ATTACH, pid 1): Operation not permitted (?, pid=42)');
  });
});
