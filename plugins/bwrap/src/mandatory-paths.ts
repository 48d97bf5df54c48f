/**
 * Mandatory write protection: files that make a later, unsandboxed program run code (shell start
 * files, git hooks and config, editor and MCP settings) stay read-only even inside writable paths.
 * Searched to any depth in the working directory (during the shared walk) and at the top of
 * $HOME and of every writable root, where a missing name gets a read-only placeholder.
 */
import { gitProtectedNames, PROTECTED_DIRS, PROTECTED_FILES } from '@fence/core';
import type { WalkVisitor } from './glob-expand.js';
import type { WalkEntry } from './walk-cache.js';

// The names are core's data, shared with the macOS layer.
export { PROTECTED_FILES, PROTECTED_DIRS, SETTINGS_FILES, gitProtectedNames } from '@fence/core';

/**
 * The git names that get a read-only placeholder when missing; the others are protected when
 * they exist. Not commondir or gitdir: git dies on an empty one ("failed to read"). Not info or
 * config.worktree yet: two more placeholders per repository exceed the bind limit in a tree with
 * many nested repositories (the bench's 143 take 875 binds); creating them is for the
 * placeholder rework (issue 11, "No litter").
 */
export const GIT_PLACEHOLDER_NAMES: ReadonlySet<string> = new Set(['hooks', 'config']);

const TOP_LEVEL = new Set<string>([...PROTECTED_FILES, ...PROTECTED_DIRS]);

/** Fence's per-user settings directory (discovery reads it): protected like a file at the top of $HOME. */
export const userSettingsDir = (home: string): string => `${home}/.config/fence`;

/** The protected paths directly inside `dir` (whether they exist or not), `.git` ones included. */
export function protectedNamesAt(dir: string, allowGitConfig: boolean): string[] {
  const base = dir === '/' ? '' : dir;
  return [...TOP_LEVEL, ...gitProtectedNames(allowGitConfig).map((n) => `.git/${n}`)].map((n) => `${base}/${n}`);
}

export interface ProtectedFinds {
  /** Protected paths seen by the walk (may be symlinks; resolved later). */
  readonly found: Set<string>;
  /** `.git` directories seen, whose missing hooks/config get placeholders. */
  readonly gitDirs: Set<string>;
}

/**
 * A walk visitor for the working directory. Inside any `.git` tree (submodules keep theirs under
 * `.git/modules/<name>`), the git protected names are; `objects` is never entered.
 */
export function protectedPathVisitor(allowGitConfig: boolean, finds: ProtectedFinds): WalkVisitor {
  const gitNames = new Set(gitProtectedNames(allowGitConfig));
  // Returns 'keep' for whatever it records: a cached walk replays only those (walk-cache.ts).
  return (path: string, entry: WalkEntry) => {
    const inGit = path.includes('/.git/');
    if (inGit) {
      if (entry.name === 'objects' && entry.isDirectory()) return 'skip';
      if (gitNames.has(entry.name)) finds.found.add(path);
      if (entry.name === 'hooks') return 'skip';
      return gitNames.has(entry.name) ? 'keep' : undefined;
    }
    const top = TOP_LEVEL.has(entry.name);
    if (top) finds.found.add(path);
    const git = entry.name === '.git' && entry.isDirectory();
    if (git) finds.gitDirs.add(path);
    return top || git ? 'keep' : undefined;
  };
}
