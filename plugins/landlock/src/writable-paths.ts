/**
 * The allowWrite paths as Landlock can use them: existing paths, each with its type (a file rule
 * may carry only file rights). Landlock rules need an open file, so a path that does not exist yet
 * gets no rule; bwrap does not mount it either.
 */
import { stat } from 'node:fs/promises';
import type { PathEntry } from './landlock-rules.js';

const GLOB_CHARS = /[*?[{]/;

/**
 * The directory a glob can only match beneath: the literal part before the first glob character,
 * cut back to its last `/` (`/w/src/**` → `/w/src`, `/w/**\/.cache` → `/w`). The bwrap plugin expands
 * globs to the matching paths for its mounts; Landlock grants the whole base directory instead, which
 * is broader but still only where the mounts allow writing, and it covers matches created later.
 */
export function literalBase(pattern: string): string {
  const at = pattern.search(GLOB_CHARS);
  if (at < 0) return pattern;
  const slash = pattern.lastIndexOf('/', at);
  return slash <= 0 ? '/' : pattern.slice(0, slash);
}

export interface WritablePaths {
  readonly existing: PathEntry[];
  /** Paths (or glob bases) that do not exist or cannot be inspected. */
  readonly skipped: string[];
}

export async function writablePaths(patterns: readonly string[]): Promise<WritablePaths> {
  const bases = [...new Set(patterns.map(literalBase))];
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
