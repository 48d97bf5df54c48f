/**
 * The allowWrite paths (and readable roots) as Landlock can use them: existing paths, each with its type (a file rule
 * may carry only file rights). Landlock rules need an open file, so a path that does not exist yet
 * gets no rule; bwrap does not mount it either. A glob gets its base directory (core's model): the
 * bwrap plugin expands globs to the matching paths for its mounts, Landlock grants the whole base
 * instead, which is broader but still only where the mounts allow writing, and covers matches
 * created later. Under read isolation the readable roots (core's readableRoots) are inspected the
 * same way.
 */
import { stat } from 'node:fs/promises';
import { existingRealPath, readableRoots, type PathRule, type Policy, type ReadAccess } from '@fence/core';
import { LINUX_PATHS } from '@fence/linux-helper';
import type { PathEntry, ReadableEntry } from './landlock-rules.js';

export interface ExistingPaths<T extends PathEntry = PathEntry> {
  readonly existing: T[];
  /** Paths (or glob bases) that do not exist or cannot be inspected. */
  readonly skipped: string[];
}

export type WritablePaths = ExistingPaths;

/** Each path with its type, or the path itself when it cannot be inspected. */
async function inspect<T>(paths: readonly T[], pathOf: (p: T) => string): Promise<(T & { isDirectory: boolean } | string)[]> {
  return Promise.all(
    paths.map(async (p) => {
      try {
        return { ...p, isDirectory: (await stat(pathOf(p))).isDirectory() };
      } catch {
        return pathOf(p);
      }
    }),
  );
}

const split = <T extends PathEntry>(found: readonly (T | string)[]): ExistingPaths<T> => ({
  existing: found.filter((f): f is T => typeof f !== 'string'),
  skipped: found.filter((f): f is string => typeof f === 'string'),
});

export async function writablePaths(rules: readonly PathRule[]): Promise<WritablePaths> {
  const bases = [...new Set(rules.map((r) => r.real))].map((path) => ({ path }));
  return split(await inspect(bases, (b) => b.path));
}

/** Under read isolation, the readable roots (core's readableRoots) that exist; else undefined. */
export async function readablePaths(policy: Policy): Promise<ExistingPaths<ReadableEntry> | undefined> {
  const roots = readableRoots(policy, LINUX_PATHS, existingRealPath);
  if (!roots) return undefined;
  const entries: { path: string; access: ReadAccess }[] = roots.map((r) => ({ path: r.path, access: r.access }));
  return split(await inspect(entries, (e) => e.path));
}
