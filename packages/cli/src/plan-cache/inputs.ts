/**
 * The state of every recorded path (recorder.ts), as the native fast path checks it again
 * (native/fence-native/src/fastpath-check.c) before it reuses a plan:
 *  - `entry`: a directory or symlink on the way to a path, by identity (device, inode, type):
 *    looking a name up depends on which object the name leads to, not on the directory's other
 *    entries; a symlink cannot be changed, only replaced (a new inode);
 *  - `full`: what a call looked at itself, by identity, owner, size, mtime and ctime: content
 *    and entries cannot change without the ctime changing, and no program can set the ctime;
 *  - `absent`: a name lstat failed on, and its errno (an appearance, or new access, is a change);
 *  - `content`: a kernel file (/proc, /sys), whose timestamps say nothing, by its bytes.
 * A path whose ctime or mtime is within RACY_NS of the recording could still change within the
 * same timestamp tick: such a plan is not stored (git's racy rule, as the walk cache's).
 */
import { lstatSync, readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Touched, Use } from './recorder.js';

export type Input =
  | { readonly type: 'entry'; readonly path: string; readonly dev: bigint; readonly ino: bigint; readonly mode: number }
  | { readonly type: 'full'; readonly path: string; readonly st: BigIntStats }
  | { readonly type: 'absent'; readonly path: string; readonly errno: number }
  | { readonly type: 'content'; readonly path: string; readonly bytes: Buffer };

/** Two seconds: the coarsest timestamps in use (as walk-cache.ts). */
export const RACY_NS = 2_000_000_000n;
const MAX_LINKS = 40;

/** Kernel files: their timestamps do not follow their content. */
const KERNEL = /^\/(proc|sys)(\/|$)/;
/** This process's own descriptors (bind-fds.ts proves its opens through them): not inputs. */
const OWN = new RegExp(`^/proc/(self|thread-self|${process.pid})(/|$)`);

/** The entry at `path`, or the errno that lstat failed with (ENOENT, ENOTDIR, EACCES …). */
function lstatOrErrno(path: string): BigIntStats | number {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    return Math.abs((e as NodeJS.ErrnoException).errno ?? 0);
  }
}

/** The inputs that make resolving `path` (and using it as `use`) give the same answer again. */
class Resolver {
  readonly inputs = new Map<string, Input>();

  add(input: Input): void {
    const old = this.inputs.get(input.path);
    if (old === undefined || (old.type === 'entry' && input.type !== 'entry')) this.inputs.set(input.path, input);
  }

  /** Walks `path` component by component from `/`, following symlinks as the kernel would. */
  walk(path: string, use: Use, links = 0, identity = false): void {
    const parts = path.split('/').filter(Boolean);
    let at = '';
    for (let i = 0; i < parts.length; i++) {
      at = `${at}/${parts[i]}`;
      const last = i === parts.length - 1;
      const st = lstatOrErrno(at);
      if (typeof st === 'number') return this.add({ type: 'absent', path: at, errno: st });
      const follows = !last || use !== 'nofollow';
      if (st.isSymbolicLink() && follows) {
        this.add({ type: 'entry', path: at, dev: st.dev, ino: st.ino, mode: Number(st.mode) });
        if (links >= MAX_LINKS) return;
        const target = resolve(dirname(at), readlinkSync(at));
        return this.walk([target, ...parts.slice(i + 1)].join('/'), use, links + 1, identity);
      }
      this.add(last && !identity ? { type: 'full', path: at, st } : { type: 'entry', path: at, dev: st.dev, ino: st.ino, mode: Number(st.mode) });
    }
    if (parts.length === 0) {
      const st = lstatOrErrno('/');
      if (typeof st !== 'number') this.add({ type: 'full', path: '/', st });
    }
  }
}

/**
 * The recorded paths' inputs, or a reason why a plan built from them must not be stored. Files
 * under `derived` (Fence's cache directories, core's fenceCacheDirs) are left out: each is a
 * function of inputs recorded themselves (the walk cache of the directories' stamps, the detection cache of its key and
 * dependencies, which it stats, and of its age, which the entry's expiry carries).
 */
export function pathInputs(touched: Touched, builtAtNs: bigint, derived: readonly string[]): Input[] | string {
  const resolver = new Resolver();
  for (const [path, use] of touched) {
    if (OWN.test(path) || derived.some((d) => path.startsWith(`${d}/`))) continue;
    // The caches' directories change as they are written; the sandbox binds them by identity.
    if (derived.includes(path)) {
      resolver.walk(path, use, 0, true);
      continue;
    }
    if (KERNEL.test(path)) {
      if (use !== 'read') continue; // a probe of /proc or /sys: detection, cached and keyed on its own
      try {
        resolver.add({ type: 'content', path, bytes: readFileSync(path) });
      } catch {
        return `${path} could not be read again`;
      }
      continue;
    }
    resolver.walk(path, use);
  }
  const inputs = [...resolver.inputs.values()];
  const racy = inputs.find((i) => i.type === 'full' && (i.st.ctimeNs > builtAtNs - RACY_NS || i.st.mtimeNs > builtAtNs - RACY_NS));
  if (racy) return `${racy.path} changed less than 2 s ago`;
  return inputs;
}
