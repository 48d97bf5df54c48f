/**
 * The file an exec names, opened the way the caller sees it. The kernel follows every symlink of
 * `/proc/<tid>/root/x` from Fence's root, so `x -> /tmp/g` would name Fence's own `/tmp/g`, and
 * the sandbox's `/proc/self` is nobody to Fence (it is in another pid namespace). So the path is
 * walked component by component: each symlink read and followed from the caller's root (an
 * absolute target) or its directory, and the caller's `/proc/self` and `/proc/thread-self` named
 * by the caller's pid; from the caller's `/proc/<pid>` on, the kernel follows the rest (the
 * `fd/N` magic links).
 */
import { lstatSync, readlinkSync, statfsSync } from 'node:fs';

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS). */
const MAX_LINKS = 40;
const PROC_SUPER_MAGIC = 0x9fa0;

const isProcfs = (path: string): boolean => {
  try {
    return statfsSync(path).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
};

/**
 * The path Fence opens for the caller's `path`, starting at `start` (the caller's working
 * directory or `dirfd`, as `/proc/<tid>/cwd` or `/proc/<tid>/fd/N`) for a relative one.
 * Throws what a lookup throws (ENOENT: nothing is there; EACCES, ELOOP: it cannot be followed).
 */
export function callerPath(caller: { readonly pid: number; readonly tid: number }, start: string, path: string): string {
  const root = `/proc/${caller.tid}/root`;
  // From root: the components below it (each a real directory); else `start` and what follows.
  let base = path.startsWith('/') ? root : start;
  let parts: string[] = [];
  const queue = path.split('/');
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      // Every part is a directory that is no symlink, so `..` takes it away; above `start` the kernel decides, above the root is the root.
      if (parts.length > 0 && parts.at(-1) !== '..') parts.pop();
      else if (base !== root) parts.push('..');
      continue;
    }
    if (base === root && parts.length === 1 && parts[0] === 'proc' && isProcfs(`${root}/proc`)) {
      const rest = queue.filter((q) => q !== '');
      if (c === 'self') return [`/proc/${caller.pid}`, ...rest].join('/');
      if (c === 'thread-self') return [`/proc/${caller.pid}/task/${caller.tid}`, ...rest].join('/');
      // Another pid of the sandbox: its procfs looks it up in the sandbox's namespace.
      return [root, 'proc', c, ...rest].join('/');
    }
    const here = [base, ...parts, c].join('/');
    if (!lstatSync(here).isSymbolicLink()) {
      parts.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`${path}: too many symlinks`), { code: 'ELOOP' });
    const target = readlinkSync(here);
    if (target.startsWith('/')) {
      base = root;
      parts = [];
    }
    queue.unshift(...target.split('/'));
  }
  return [base, ...parts].join('/');
}
