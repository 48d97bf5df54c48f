/**
 * Path normalisation of the policy: `~` and `~/x` against the home directory, `./`, `../` and
 * other relative paths against the working directory, then symlinks resolved on the longest
 * existing part (a path that does not exist yet keeps its tail as written). Globs stay globs with
 * an absolute, resolved directory part; `**\/name` patterns stay relative (they match at any depth
 * under the working directory and are expanded by the layers).
 */
import { realpathSync } from 'node:fs';
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

/** One settings path or glob, made absolute against `cwd` (see the file comment). */
export function resolvePolicyPath(value: string, cwd: string, home: string): string {
  if (value.startsWith('**/')) return value;
  const absolute = path.resolve(cwd, expandHome(value, home));
  const segments = absolute.split(path.sep);
  const firstGlob = segments.findIndex((s) => GLOB.test(s));
  if (firstGlob === -1) return realPathOfExisting(absolute);
  const directory = segments.slice(0, firstGlob).join(path.sep) || path.sep;
  return path.join(realPathOfExisting(directory), ...segments.slice(firstGlob));
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
      allowWrite: resolve(settings.filesystem.allowWrite),
      denyWrite: resolve(settings.filesystem.denyWrite),
    },
    cwd,
    home,
    trusted: [],
  };
}
