/**
 * What the eBPF monitor reports (a failing file, exec or connect syscall of the sandbox), and the
 * violation it becomes: `open: Read-only file system (touch, pid=N)`. Pure.
 *
 * comm and target are chosen by the sandboxed program: they are printed, never interpreted.
 */
import type { Violation } from '@fence/core';

/** The errno values the monitor reports, with their strerror text. */
export const REPORTED_ERRNOS: Readonly<Record<number, string>> = {
  1: 'Operation not permitted',
  13: 'Permission denied',
  30: 'Read-only file system',
};

/** The syscalls traced (where the architecture has them), by the operation they are shown as. */
export const TRACED_OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  open: ['open', 'creat', 'openat', 'openat2'],
  mkdir: ['mkdir', 'mkdirat'],
  unlink: ['unlink', 'unlinkat'],
  rmdir: ['rmdir'],
  rename: ['rename', 'renameat', 'renameat2'],
  exec: ['execve', 'execveat'],
  connect: ['connect'],
};

/** One failing syscall, as the addon's monitor reports it. */
export interface EbpfEvent {
  /** ms since the epoch, at the syscall's exit (the kernel's clock, not when it was read). */
  readonly time: number;
  readonly op: string;
  readonly errno: number;
  /** Host pid (thread group) and thread id. */
  readonly pid: number;
  readonly tid: number;
  readonly comm: string;
  /** A path (up to 255 bytes), `old -> new`, or `1.2.3.4:80`, `[::1]:443`, `unix:/path`. */
  readonly target: string;
}

/** strerror() of the errnos the monitor reports. */
export function errnoText(errno: number): string {
  return REPORTED_ERRNOS[errno] ?? `errno ${errno}`;
}

export function ebpfViolation(event: EbpfEvent): Violation {
  const reason = errnoText(event.errno);
  return {
    time: event.time,
    source: 'ebpf',
    action: 'block',
    target: event.target,
    process: event.comm,
    pid: event.pid,
    reason,
    detail: `${event.op}: ${reason} (${event.comm}, pid=${event.pid})`,
  };
}
