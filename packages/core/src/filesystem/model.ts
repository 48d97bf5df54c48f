/**
 * The filesystem model: every path of the policy resolved once, here, and consumed as is by every
 * layer (bwrap's mounts, the Landlock ruleset, the Seatbelt profile, `fence check`). Each rule keeps
 * the path as the settings wrote it, the path made absolute (against the resolved working directory
 * or home: how it was reached), and its real path, so a layer or a message can say which path a
 * symlink led to. A glob keeps its pattern on the real base directory it can only match beneath.
 * Pure data, so the policy stays printable; `ruleMatches` and `ruleCovers` match it (glob.ts).
 */
import path from 'node:path';
import { globBase, globMatches, hasGlob } from './glob.js';

/** The filesystem settings that hold paths. */
export type PathField = 'denyRead' | 'allowRead' | 'allowExecute' | 'allowWrite' | 'denyWrite';

/** Every setting whose entries are resolved as paths. */
export type RuleField = PathField | 'allowUnixSockets';

/** What a relative entry was resolved against: `any-depth` is a `**\/name` pattern (the working directory, any depth). */
export type Reached = 'absolute' | 'home' | 'cwd' | 'any-depth';

export interface PathGlob {
  /** The absolute pattern, on the real base (what every layer matches). */
  readonly pattern: string;
  /** `dir/**`: the base and everything below it, the same as the plain path `dir`. */
  readonly tree: boolean;
}

export interface PathRule {
  readonly field: RuleField;
  /** Index in the settings list (`filesystem.denyRead[2]`). */
  readonly index: number;
  /** As the settings wrote it. */
  readonly written: string;
  readonly reached: Reached;
  /** The path, or a glob's base, made absolute against the resolved working directory and home. */
  readonly absolute: string;
  /** `absolute` with every symlink resolved (of its existing part): what the layers act on. */
  readonly real: string;
  readonly glob?: PathGlob;
}

/** The resolved rules, per field, in the settings' order. */
export type FilesystemModel = { readonly [F in PathField]: readonly PathRule[] };

/** `path` is `root` or below it (both absolute, normalised). */
export const isWithin = (path: string, root: string): boolean => path === root || root === '/' || path.startsWith(`${root}/`);

/** `~`, `~/x` → under `home`; anything else as is. */
export function expandHome(value: string, home: string): string {
  return value === '~' ? home : value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
}

/** The real path of the longest existing prefix of `absolute`, with the rest appended. */
export function realPathOfExisting(absolute: string, realpath: (p: string) => string): string {
  const tail: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(realpath(current), ...tail);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      tail.unshift(path.basename(current));
      current = parent;
    }
  }
}

function reachedBy(value: string): Reached {
  if (value.startsWith('**/')) return 'any-depth';
  if (value === '~' || value.startsWith('~/')) return 'home';
  return path.isAbsolute(value) ? 'absolute' : 'cwd';
}

/** One settings entry resolved (see the file comment); `realpath` throws for a missing path. */
export function resolveRule(field: RuleField, index: number, written: string, cwd: string, home: string, realpath: (p: string) => string): PathRule {
  const reached = reachedBy(written);
  const absolute = path.resolve(cwd, expandHome(written, home));
  if (!hasGlob(absolute)) return { field, index, written, reached, absolute, real: realPathOfExisting(absolute, realpath) };
  const base = globBase(absolute);
  const real = realPathOfExisting(base, realpath);
  const pattern = path.join(real, absolute.slice(base.length));
  return { field, index, written, reached, absolute: base, real, glob: { pattern, tree: pattern === `${real === '/' ? '' : real}/**` } };
}

/** The value the policy lists for a rule: the real path, or the pattern (`**\/name` as written). */
export const policyValue = (rule: PathRule): string => (rule.reached === 'any-depth' ? rule.written : (rule.glob?.pattern ?? rule.real));

/** Whether the rule names `path` itself: the path, or a path its glob matches. */
export const ruleMatches = (rule: PathRule, path: string): boolean => (rule.glob ? globMatches(rule.glob.pattern, path) : path === rule.real);

/** Whether `path` is the rule's path or below it, or below a path its glob matches. */
export function ruleCovers(rule: PathRule, path: string): boolean {
  if (!isWithin(path, rule.real)) return false;
  if (!rule.glob || rule.glob.tree) return true;
  for (let p = path; isWithin(p, rule.real); p = p.slice(0, Math.max(p.lastIndexOf('/'), 1))) {
    if (globMatches(rule.glob.pattern, p)) return true;
    if (p === rule.real) return false;
  }
  return false;
}
