/**
 * Path normalisation of the policy: `~` and `~/x` against the home directory, `./`, `../` and
 * other relative paths against the working directory, then symlinks resolved on the longest
 * existing part (a path that does not exist yet keeps its tail as written). Globs stay globs with
 * an absolute, resolved directory part; `**\/name` patterns stay relative (they match at any depth
 * under the working directory and are expanded by the layers).
 *
 * An allowWrite entry must not lead through a symlink (one planted by an earlier run would widen
 * this one): the entry as written, made absolute against the working directory and home, both
 * already resolved, must be its own real path. The working directory's and home's own symlinks
 * (a symlinked $HOME, macOS's /tmp) are where the user stands, not something the entry names, so
 * they do not count; every symlink below them, and any in an absolute entry, does. Such an entry is
 * refused unless its real path is also allowed by an entry that names it directly.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';
import type { Policy } from '../policy.js';
import type { Settings } from './schema.js';

const GLOB = /[*?[{]/;

/** `path` is `root` or below it (both absolute, normalised). */
export const isWithin = (path: string, root: string): boolean => path === root || root === '/' || path.startsWith(`${root}/`);

/** The real path of the longest existing prefix of `absolute`, with the rest appended. */
export function realPathOfExisting(absolute: string): string {
  const tail: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(realpathSync.native(current), ...tail);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      tail.unshift(path.basename(current));
      current = parent;
    }
  }
}

/** `~`, `~/x` → under `home`; anything else as is. */
export function expandHome(value: string, home: string): string {
  return value === '~' ? home : value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
}

/** A settings path or glob: its literal part as written (made absolute) next to that part resolved. */
interface ResolvedPath {
  /** The path (or a glob's directory part) against the resolved working directory and home. */
  readonly absolute: string;
  /** `absolute` with every symlink resolved. */
  readonly real: string;
  /** The value for the policy: `real`, plus a glob's pattern part. */
  readonly resolved: string;
}

/** One settings path or glob, made absolute against `cwd` (see the file comment). */
function resolveWithProvenance(value: string, cwd: string, home: string): ResolvedPath {
  if (value.startsWith('**/')) return { absolute: value, real: value, resolved: value };
  const absolute = path.resolve(cwd, expandHome(value, home));
  const segments = absolute.split(path.sep);
  const firstGlob = segments.findIndex((s) => GLOB.test(s));
  if (firstGlob === -1) {
    const real = realPathOfExisting(absolute);
    return { absolute, real, resolved: real };
  }
  const directory = segments.slice(0, firstGlob).join(path.sep) || path.sep;
  const real = realPathOfExisting(directory);
  return { absolute: directory, real, resolved: path.join(real, ...segments.slice(firstGlob)) };
}

export const resolvePolicyPath = (value: string, cwd: string, home: string): string => resolveWithProvenance(value, cwd, home).resolved;

const isSymlink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** allowWrite resolved; an entry that leads through a symlink is refused (see the file comment). */
function resolveAllowWrite(list: readonly string[], cwd: string, home: string): string[] {
  const entries = list.map((p) => resolveWithProvenance(p, cwd, home));
  const named = entries.filter((e) => e.absolute === e.real && e.real === e.resolved).map((e) => e.real);
  entries.forEach((e, i) => {
    if (e.absolute === e.real || named.some((n) => isWithin(e.real, n))) return;
    throw errors.allowWriteSymlink(i, list[i]!, e.real, isSymlink(e.absolute));
  });
  return entries.map((e) => e.resolved);
}

/** The directory a resolved policy path or glob covers at most (`**\/x` globs: the working directory). */
export function patternBase(pattern: string, cwd: string): string {
  if (pattern.startsWith('**/')) return cwd;
  const segments = pattern.split(path.sep);
  const firstGlob = segments.findIndex((s) => GLOB.test(s));
  return firstGlob === -1 ? pattern : segments.slice(0, firstGlob).join(path.sep) || path.sep;
}

/** The working directory, absolute with symlinks resolved; it must exist. */
export function resolveWorkingDirectory(cwd: string): string {
  try {
    return realpathSync.native(path.resolve(cwd));
  } catch (e) {
    throw errors.pathInvalid('cwd', cwd, `cannot be used as the working directory (${(e as NodeJS.ErrnoException).code ?? String(e)}); run from an existing directory`);
  }
}

/**
 * devices.allow resolved: each entry must exist and its real path (symlinks resolved) must still
 * be under /dev, so a link such as /dev/fd cannot name something outside; the real path is what
 * the sandbox shows. It must be a device node or a directory of them that only root can write
 * (/dev/dri, /dev/net): never a place others can write, such as /dev/shm, where a name could be
 * swapped for a link between this check and the mount. Only Linux has these settings; elsewhere
 * they stay as written.
 */
function resolveDevices(list: readonly string[]): string[] {
  if (process.platform !== 'linux') return [...list];
  return list.map((written, i) => {
    const field = `devices.allow[${i}]`;
    let real: string;
    try {
      real = realpathSync.native(written);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw errors.pathInvalid(field, written, `does not exist on this machine (${code}); remove it, or load the driver that creates it`);
    }
    if (!isWithin(real, '/dev') || real === '/dev') throw errors.pathInvalid(field, written, `leads to ${real}, outside /dev; name a device under /dev`);
    const stat = statSync(real);
    const device = stat.isCharacterDevice() || stat.isBlockDevice();
    const rootsDirectory = stat.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0;
    if (!device && !rootsDirectory) {
      throw errors.pathInvalid(field, written, `${real === written ? 'is' : `leads to ${real}, which is`} neither a device nor a directory of devices only root can write; name a device node (e.g. "/dev/fuse") or a directory such as "/dev/dri"`);
    }
    return real;
  });
}

type PolicySettings = Omit<Settings, '$schema' | 'extends'>;

/** The policy of `settings`: every path field resolved (see the file comment). */
export function resolvePolicyPaths(settings: PolicySettings, cwd: string, home: string): Policy {
  // Same length and order as the settings lists, so `sources` indexes still apply.
  const resolve = (list: readonly string[]): string[] => list.map((p) => resolvePolicyPath(p, cwd, home));
  return {
    ...settings,
    network: { ...settings.network, allowUnixSockets: resolve(settings.network.allowUnixSockets) },
    filesystem: {
      ...settings.filesystem,
      denyRead: resolve(settings.filesystem.denyRead),
      allowRead: resolve(settings.filesystem.allowRead),
      allowWrite: resolveAllowWrite(settings.filesystem.allowWrite, cwd, home),
      denyWrite: resolve(settings.filesystem.denyWrite),
    },
    devices: { ...settings.devices, allow: resolveDevices(settings.devices.allow) },
    cwd,
    home,
    trusted: [],
  };
}
