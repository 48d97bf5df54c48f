/**
 * The allowWrite paths as Landlock can use them: existing paths, each with its type (a file rule
 * may carry only file rights). Landlock rules need an open file, so a path that does not exist yet
 * gets no rule; bwrap does not mount it either. A glob gets its base directory (core's model): the
 * bwrap plugin expands globs to the matching paths for its mounts, Landlock grants the whole base
 * instead, which is broader but still only where the mounts allow writing, and covers matches
 * created later.
 */
import { stat } from 'node:fs/promises';
import type { PathRule } from '@fence/core';
import type { PathEntry } from './landlock-rules.js';

export interface WritablePaths {
  readonly existing: PathEntry[];
  /** Paths (or glob bases) that do not exist or cannot be inspected. */
  readonly skipped: string[];
}

export async function writablePaths(rules: readonly PathRule[]): Promise<WritablePaths> {
  const bases = [...new Set(rules.map((r) => r.real))];
  const found = await Promise.all(
    bases.map(async (path) => {
      try {
        return { path, isDirectory: (await stat(path)).isDirectory() };
      } catch {
        return path;
      }
    }),
  );
  return {
    existing: found.filter((f): f is PathEntry => typeof f !== 'string'),
    skipped: found.filter((f): f is string => typeof f === 'string'),
  };
}
