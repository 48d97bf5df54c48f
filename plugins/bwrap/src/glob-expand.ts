/**
 * The walk that expands globs for the filesystem rules. bwrap mounts paths, not patterns, so
 * patterns are expanded when the session starts (gather.ts, matching with core's model): `dir/**`
 * is the directory itself (its mount covers every descendant); any other glob is matched during
 * ONE walk per tree, shared by every pattern and by the mandatory-path search, skipping directories
 * that are already covered (hidden by denyRead).
 * Files created after the start are not matched; the README says so.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { isWithin } from './bwrap-args.js';
import type { WalkCache, WalkEntry } from './walk-cache.js';

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

/** Options of walkTrees. */
export interface WalkOptions {
  readonly cache?: WalkCache;
  /** Each directory that could not be read. */
  readonly unreadable?: (dir: string) => void;
  /** Each directory whose entries the visitor saw (read, or replayed from the cache). */
  readonly entered?: (dir: string) => void;
}

/**
 * Walks each tree once without following symlinks; unreadable directories are passed over (and
 * given to `unreadable`). With a cache, directories that are provably unchanged are not read again
 * (walk-cache.ts).
 */
export function walkTrees(roots: readonly string[], visit: WalkVisitor, { cache, unreadable, entered }: WalkOptions = {}): void {
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
    entered?.(dir);
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
