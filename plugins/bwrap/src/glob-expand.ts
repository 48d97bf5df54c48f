/**
 * Glob expansion for the filesystem rules. bwrap mounts paths, not patterns, so patterns are
 * expanded when the session starts: `dir/**` is the directory itself (its mount covers every
 * descendant); any other glob is matched during ONE walk per tree, shared by every pattern and by
 * the mandatory-path search, skipping directories that are already covered (hidden by denyRead).
 * Files created after the start are not matched; the README says so.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { isAbsolute, normalize, resolve } from 'node:path';
import { isWithin } from './bwrap-args.js';
import type { WalkCache, WalkEntry } from './walk-cache.js';

export type PathPattern =
  | { readonly kind: 'path'; readonly pattern: string; readonly path: string }
  | { readonly kind: 'glob'; readonly pattern: string; readonly root: string; readonly regex: RegExp }
  | { readonly kind: 'unsupported'; readonly pattern: string; readonly why: string };

const GLOB_CHARS = /[*?[]/;

/** `~`, `./`, `../` and relative paths against the working directory; result is absolute. */
export function absolutePattern(pattern: string, cwd: string, home: string): string {
  if (pattern === '~') return home;
  if (pattern.startsWith('~/')) return normalize(`${home}/${pattern.slice(2)}`);
  return isAbsolute(pattern) ? normalize(pattern) : resolve(cwd, pattern);
}

/** `*` one segment, `**` any depth, `?` one character, `[...]` a class. Anchored. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      re += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Classifies one settings entry (already absolute). */
export function parsePattern(absolute: string): PathPattern {
  if (absolute.includes('{')) return { kind: 'unsupported', pattern: absolute, why: 'brace patterns ({a,b}) are not supported; list each path' };
  if (!GLOB_CHARS.test(absolute)) return { kind: 'path', pattern: absolute, path: absolute };
  const tree = /^(.*)\/\*\*$/.exec(absolute);
  if (tree && !GLOB_CHARS.test(tree[1]!)) return { kind: 'path', pattern: absolute, path: tree[1] || '/' };
  const segments = absolute.split('/');
  const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  const root = segments.slice(0, firstGlob).join('/') || '/';
  if (root === '/') {
    return { kind: 'unsupported', pattern: absolute, why: 'a glob at the top of the filesystem would walk every file; start it under a directory' };
  }
  return { kind: 'glob', pattern: absolute, root, regex: globToRegExp(absolute) };
}

/**
 * Sees the entries of a walk: returns 'skip' for a directory the walk must not go into, 'keep'
 * for an entry it recorded, nothing otherwise. With a cache, an unchanged directory replays only
 * its sub-directories and the kept and skipped entries, so a visitor must be a function of the
 * path and the entry's kind (and of what the cache key names), and must keep what it records.
 */
export type WalkVisitor = (path: string, entry: WalkEntry) => 'skip' | 'keep' | void;

/** Roots that are not inside another root, so that no directory is read twice. */
export function outermost(roots: readonly string[]): string[] {
  const sorted = [...new Set(roots)].sort((a, b) => a.length - b.length);
  return sorted.filter((r, i) => !sorted.slice(0, i).some((o) => isWithin(r, o)));
}

/**
 * Walks each tree once without following symlinks; unreadable directories are passed over (and
 * given to `unreadable`). With a cache, directories that are provably unchanged are not read again
 * (walk-cache.ts).
 */
export function walkTrees(roots: readonly string[], visit: WalkVisitor, { cache, unreadable }: { cache?: WalkCache; unreadable?: (dir: string) => void } = {}): void {
  const tops = outermost(roots);
  const rootSet = new Set(tops);
  const stack = [...tops];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const cached = cache?.lookup(dir, rootSet.has(dir));
    const entries = cached ?? readEntries(dir);
    if (!entries) {
      unreadable?.(dir);
      continue;
    }
    const kept: WalkEntry[] = [];
    for (const entry of entries) {
      const path = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
      const seen = visit(path, entry);
      if (seen || entry.isDirectory()) kept.push(entry);
      if (seen !== 'skip' && entry.isDirectory()) stack.push(path);
    }
    if (!cached) cache?.store(dir, kept);
  }
  cache?.save();
}

function readEntries(dir: string): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}
