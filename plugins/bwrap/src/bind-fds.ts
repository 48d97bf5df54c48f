/**
 * Effects: the descriptors bwrap binds from (`--bind-fd`, `--ro-bind-fd`). Each path is opened
 * once per session with O_PATH|O_NOFOLLOW and proved to be the path that was checked:
 *  - fstat gives its kind; a symlink in the last component opens as the link itself, and is refused;
 *  - /proc/self/fd/N names the path itself, which it cannot if any directory on the way was a
 *    symlink (the kernel records the path it really walked).
 * bwrap then mounts the descriptor's file and compares the mount with it (device and inode), so a
 * swap after this check stops bwrap instead of mounting something else. A path that fails the
 * check stops the run: nothing is mounted by name as a fallback.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { errors } from '@fence/core';
import type { BindPath, PathKind } from './bwrap-args.js';

/** O_PATH (Linux): a handle on the file itself, without read or write access; Node has no constant. */
const O_PATH = 0o10000000;

/**
 * Descriptors one session may hold for its binds. bwrap reads at most 9000 arguments (3 per bind)
 * and every descriptor stays open in Fence for the whole session, so the count is bounded; a policy
 * that needs more is refused (BIND_LIMIT), never bound by name.
 */
export const MAX_BIND_FDS = 512;

const kindOf = (s: Stats): string => (s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'special file');

const fdPath = (fd: number): string => readlinkSync(`/proc/self/fd/${fd}`);

/** Throws PATH_CHANGED unless `fd` is `path` itself, of the `expected` kind (a directory or a file). */
function prove(fd: number, path: string, expected: PathKind | undefined): void {
  const kind = kindOf(fstatSync(fd));
  if (kind === 'symlink') throw errors.pathChanged(path, 'it is a symlink');
  if (kind !== (expected ?? kind) || (kind !== 'dir' && kind !== 'file')) throw errors.pathChanged(path, `it is a ${kind}, not a ${expected ?? 'directory or file'}`);
  const walked = fdPath(fd);
  if (walked !== path) throw errors.pathChanged(path, `it leads to ${walked}: a directory on the way is a symlink or was moved`);
}

/** Opens `path` without following a symlink anywhere on the way (see the file comment). */
export function openExact(path: string, expected?: PathKind): number {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch (e) {
    throw errors.pathChanged(path, `it cannot be opened: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    prove(fd, path, expected);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Creates a 0444 file holding `content` at `path` inside its directory as opened by openExact: the
 * name is created relative to that directory's descriptor (/proc/self/fd/N/name), so a symlink
 * planted on the way cannot put it anywhere else. Returns the new file's `dev:ino:size`, or
 * undefined when the name exists already or the directory is not writable for this user (nothing
 * to cover then). A file that is not at `path` afterwards (its directory was moved meanwhile) is
 * removed and refused.
 */
export function createExact(path: string, content = ''): string | undefined {
  const dir = openExact(dirname(path), 'dir');
  try {
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${dir}/${basename(path)}`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o444);
    } catch {
      return undefined;
    }
    try {
      if (content) writeSync(fd, content);
      const s = fstatSync(fd);
      if (fdPath(fd) !== path) {
        unlinkSync(`/proc/self/fd/${dir}/${basename(path)}`);
        throw errors.pathChanged(path, `its directory moved to ${fdPath(dir)} while the placeholder was created`);
      }
      return `${s.dev}:${s.ino}:${s.size}`;
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(dir);
  }
}

/** The bind descriptors of one session: opened at prepare, closed at session close. */
export class BindFds {
  readonly #fds: number[] = [];

  /** Opens each path (openExact); returns each path's descriptor in this process. */
  open(binds: readonly BindPath[], kinds: ReadonlyMap<string, PathKind>): Map<string, number> {
    if (binds.length > MAX_BIND_FDS) throw errors.bindLimit(binds.length, MAX_BIND_FDS);
    const out = new Map<string, number>();
    for (const b of binds) {
      const fd = openExact(b.path, b.kind ?? kinds.get(b.path));
      this.#fds.push(fd);
      out.set(b.path, fd);
    }
    return out;
  }

  close(): void {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
  }
}
