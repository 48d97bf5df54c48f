/**
 * Path resolution of the policy, once, into the filesystem model (filesystem/model.ts): `~` and
 * `~/x` against the home directory, `./`, `../` and other relative paths against the working
 * directory, then symlinks resolved on the longest existing part (a path that does not exist yet
 * keeps its tail as written). Globs keep an absolute, resolved base directory; `**\/name` patterns
 * match at any depth under the working directory (the policy lists them as written).
 *
 * An allowWrite entry must not lead through a symlink (one planted by an earlier run would widen
 * this one): the entry as written, made absolute against the working directory and home, both
 * already resolved, must be its own real path. The working directory's and home's own symlinks
 * (a symlinked $HOME, macOS's /tmp) are where the user stands, not something the entry names, so
 * they do not count; every symlink below them, and any in an absolute entry, does. Such an entry is
 * refused unless its real path is also allowed by an entry that names it directly. Under read
 * isolation the same holds for allowRead and allowExecute: a planted link must not show $HOME.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';
import { isWithin, policyValue, realPathOfExisting as realPathWith, resolveRule, type FilesystemModel, type PathField, type PathRule, type RuleField } from '../filesystem/model.js';
import { readableGlobProblem, readIsolated } from '../filesystem/readable.js';
import type { Policy } from '../policy.js';
import type { Settings } from './schema.js';

export { expandHome, isWithin } from '../filesystem/model.js';

/** The real path of the longest existing prefix of `absolute`, with the rest appended. */
export const realPathOfExisting = (absolute: string): string => realPathWith(absolute, realpathSync.native);

/** The real path of `p`, or undefined when it does not exist. */
export function existingRealPath(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** One settings path or glob resolved against `cwd` and `home` (see the file comment). */
export const resolvePath = (field: RuleField, index: number, value: string, cwd: string, home: string): PathRule =>
  resolveRule(field, index, value, cwd, home, realpathSync.native);

const isSymlink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * An entry that leads through a symlink is refused unless its real path is named too (see the file
 * comment): allowWrite always, and under read isolation what it makes readable.
 */
function checkSymlinks(rules: readonly PathRule[]): void {
  const named = rules.filter((r) => !r.glob && r.absolute === r.real).map((r) => r.real);
  for (const r of rules) {
    if (r.absolute === r.real || named.some((n) => isWithin(r.real, n))) continue;
    throw errors.allowWriteSymlink(r.index, r.written, r.real, isSymlink(r.absolute), r.field);
  }
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

const PATH_FIELDS: readonly PathField[] = ['denyRead', 'allowRead', 'allowExecute', 'allowWrite', 'denyWrite'];

/**
 * The model of the filesystem settings (see the file comment). `realpath` is the host's unless a
 * caller builds a model for another machine (the Seatbelt golden profiles).
 */
export function resolveFilesystem(filesystem: PolicySettings['filesystem'], cwd: string, home: string, realpath: (p: string) => string = realpathSync.native): FilesystemModel {
  const resolve = (f: PathField) => filesystem[f].map((p, i) => resolveRule(f, i, p, cwd, home, realpath));
  const model = Object.fromEntries(PATH_FIELDS.map((f) => [f, resolve(f)])) as unknown as FilesystemModel;
  checkSymlinks(model.allowWrite);
  if (readIsolated({ filesystem })) {
    checkSymlinks(model.allowRead);
    checkSymlinks(model.allowExecute);
    for (const rule of [...model.allowRead, ...model.allowExecute, ...model.allowWrite]) {
      const problem = readableGlobProblem(rule, cwd);
      if (problem) throw errors.pathInvalid(`filesystem.${rule.field}[${rule.index}]`, rule.written, problem);
    }
  }
  return model;
}

/** The policy of `settings`: every path field resolved (see the file comment). */
export function resolvePolicyPaths(settings: PolicySettings, cwd: string, home: string): Policy {
  const paths = resolveFilesystem(settings.filesystem, cwd, home);
  // Same length and order as the settings lists, so `sources` indexes still apply.
  const values = (field: PathField): string[] => paths[field].map(policyValue);
  return {
    ...settings,
    network: { ...settings.network, allowUnixSockets: settings.network.allowUnixSockets.map((p, i) => policyValue(resolvePath('allowUnixSockets', i, p, cwd, home))) },
    filesystem: { ...settings.filesystem, denyRead: values('denyRead'), allowRead: values('allowRead'), allowExecute: values('allowExecute'), allowWrite: values('allowWrite'), denyWrite: values('denyWrite') },
    paths,
    cwd,
    home,
    trusted: [],
  };
}
