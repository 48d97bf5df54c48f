/**
 * An execve/execveat the supervisor read (runtimeExecPolicy "argv"), as the kernel's exec hook
 * takes it. The file is named through /proc so Fence opens what the caller would: its root
 * for an absolute path, its working directory or `dirfd` for a relative one.
 */
import type { ExecRequest, Violation } from '@fence/core';
import { callerPath } from './caller-path.js';

/** What the addon's supervisor hands over for each exec call. */
export interface NotifyExec {
  readonly pid: number;
  readonly tid: number;
  readonly comm: string;
  readonly nr: number;
  readonly arch: number;
  /** execveat's dirfd; AT_FDCWD (-100) for execve. */
  readonly dirfd: number;
  readonly flags: number;
  /** False when the path or an argument could not be read: the call is refused whatever the verdict. */
  readonly readable: boolean;
  readonly path: string;
  readonly argv: readonly string[];
}

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
/** Lookup errors the caller's own exec meets the same way. */
const LOOKUP_FAILS = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'ENAMETOOLONG']);

/** `/proc/<tid>/root/usr/bin/git`, `/proc/<tid>/cwd/./x`, `/proc/<tid>/fd/3` (fexecve). */
export function execFile(e: Pick<NotifyExec, 'tid' | 'dirfd' | 'flags' | 'path'>): string {
  const proc = `/proc/${e.tid}`;
  if (e.path.startsWith('/')) return `${proc}/root${e.path}`;
  if (e.path === '' && (e.flags & AT_EMPTY_PATH) !== 0) return `${proc}/fd/${e.dirfd}`;
  return `${e.dirfd === AT_FDCWD ? `${proc}/cwd` : `${proc}/fd/${e.dirfd}`}/${e.path}`;
}

/**
 * The request, its file followed as the caller sees it (caller-path.ts). A path whose lookup
 * fails as it would for the caller (nothing there, a directory it may not search: a PATH search
 * trying each directory) keeps its plain name, and the kernel's exec fails the same; any other
 * failure leaves it `unresolved`.
 */
export function execRequest(e: NotifyExec): ExecRequest {
  const request = { path: e.path, argv: e.argv, pid: e.pid, process: e.comm };
  if (e.path === '' && (e.flags & AT_EMPTY_PATH) !== 0) return { ...request, file: execFile(e) };
  const start = e.dirfd === AT_FDCWD ? `/proc/${e.tid}/cwd` : `/proc/${e.tid}/fd/${e.dirfd}`;
  try {
    return { ...request, file: callerPath(e, start, e.path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return { ...request, file: execFile(e), ...(LOOKUP_FAILS.has(code) ? {} : { unresolved: code }) };
  }
}

/** An exec whose path or arguments could not be read: refused (fail closed), and reported. */
export function unreadableExec(e: Pick<NotifyExec, 'pid' | 'comm' | 'path'>, time: number): Violation {
  const reason = 'its arguments could not be read; runtimeExecPolicy "argv" refuses what it cannot check';
  return {
    time,
    source: 'command',
    action: 'block',
    target: e.path || '?',
    process: e.comm,
    pid: e.pid,
    reason,
    detail: `exec ${e.path || '?'}: ${reason} (${e.comm || '?'}, pid=${e.pid})`,
  };
}
