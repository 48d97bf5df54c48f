/**
 * Mandatory write protection: files that make a later, unsandboxed program run code (shell start
 * files, git hooks and config, editor and MCP settings) stay read-only even inside writable paths.
 * Searched to any depth in the working directory (during the shared walk) and at the top of
 * $HOME and of every writable root, where a missing name gets a read-only placeholder.
 */
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { gitProtectedNames, PROTECTED_DIRS, PROTECTED_FILES } from '@fence/core';
import type { WalkVisitor } from './glob-expand.js';
import type { WalkEntry } from './walk-cache.js';

const isRegularFile = (path: string): boolean => {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
};

/** Whether anything (a symlink too) is at `path`. A missing path is the common answer: no exception is made for it. */
export function lstatExists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

// The names are core's data, shared with the macOS layer.
export { PROTECTED_FILES, PROTECTED_DIRS, SETTINGS_FILES, gitProtectedNames } from '@fence/core';

/**
 * The git names that get a placeholder when missing. `gitdir` only means something in a linked
 * worktree's directory, where git writes it itself; elsewhere a placeholder would be mere litter.
 */
export const gitPlaceholderNames = (allowGitConfig: boolean): string[] => gitProtectedNames(allowGitConfig).filter((n) => n !== 'gitdir');

/**
 * What a placeholder holds. Empty suits every name (an empty config, a hooks or info file that git
 * reads as absent) except `commondir`: git dies on an empty one, and "." names the git directory
 * itself, which is what git does without the file.
 */
export const placeholderContent = (path: string): string => (path.endsWith('/commondir') ? '.\n' : '');

const TOP_LEVEL = new Set<string>([...PROTECTED_FILES, ...PROTECTED_DIRS]);

/** Fence's per-user settings directory (discovery reads it): protected like a file at the top of $HOME. */
export const userSettingsDir = (home: string): string => `${home}/.config/fence`;

/** The protected paths directly inside `dir` (whether they exist or not), `.git` ones included. */
export function protectedNamesAt(dir: string, allowGitConfig: boolean): string[] {
  const base = dir === '/' ? '' : dir;
  return [...TOP_LEVEL, ...gitPlaceholderNames(allowGitConfig).map((n) => `.git/${n}`)].map((n) => `${base}/${n}`);
}

export interface ProtectedFinds {
  /** Protected paths seen by the walk (may be symlinks; resolved later). */
  readonly found: Set<string>;
  /** Git directories seen (`.git`, and the worktree and submodule ones inside), whose missing names get placeholders. */
  readonly gitDirs: Set<string>;
  /** Entries inside `.git` trees named like a protected git name: protected when their parent is a git directory. */
  readonly gitEntries: Set<string>;
  /** Directories outside `.git` trees holding a `HEAD`: git directories when they hold the rest (gitFinds). */
  readonly heads: Set<string>;
}

export const emptyFinds = (): ProtectedFinds => ({ found: new Set(), gitDirs: new Set(), gitEntries: new Set(), heads: new Set() });

/**
 * Whether `dir` holds what makes git take a directory for a git directory wherever it is (git's
 * is_git_directory: HEAD, with objects and refs or with a commondir): a bare repository, a
 * `--separate-git-dir`. Any kind of entry counts, as for the creation guard (guard-rules.c).
 */
const holdsGit = (dir: string): boolean => lstatExists(`${dir}/HEAD`) && (lstatExists(`${dir}/commondir`) || (lstatExists(`${dir}/objects`) && lstatExists(`${dir}/refs`)));

/**
 * The git directories and protected entries of a walk (which sees a directory's entries in any
 * order). Directories outside `.git` that hold a git directory's content (bare repositories)
 * join `finds.gitDirs`, with their protected names that exist.
 */
export function gitFinds(finds: ProtectedFinds, allowGitConfig: boolean): string[] {
  for (const dir of finds.heads) {
    if (finds.gitDirs.has(dir) || !holdsGit(dir)) continue;
    finds.gitDirs.add(dir);
    for (const n of gitProtectedNames(allowGitConfig)) if (lstatExists(`${dir}/${n}`)) finds.gitEntries.add(`${dir}/${n}`);
  }
  return [...finds.gitEntries].filter((p) => finds.gitDirs.has(p.slice(0, p.lastIndexOf('/'))));
}

/**
 * A walk visitor for the working directory. Inside any `.git` tree, every directory holding `HEAD`
 * is a git directory too (linked worktrees under `worktrees/<name>`, submodules under
 * `modules/<path>`), with the same protected names; `objects` is never entered. A `.git` file
 * (`gitdir: …`, submodules and worktrees) is protected itself, so it cannot be re-pointed.
 * Elsewhere a `HEAD` file marks a possible bare repository, decided by gitFinds.
 */
export function protectedPathVisitor(allowGitConfig: boolean, finds: ProtectedFinds): WalkVisitor {
  const gitNames = new Set(gitProtectedNames(allowGitConfig));
  // Returns 'keep' for whatever it records: a cached walk replays only those (walk-cache.ts).
  return (path: string, entry: WalkEntry) => {
    const inGit = path.includes('/.git/');
    if (inGit) {
      if (entry.name === 'objects' && entry.isDirectory()) return 'skip';
      if (entry.name === 'objects' && entry.isDirectory()) return 'skip';
      // logs/HEAD is the reflog, not a git directory's HEAD.
      const head = entry.name === 'HEAD' && !path.endsWith('/logs/HEAD');
      if (head) finds.gitDirs.add(path.slice(0, -'/HEAD'.length));
      const named = gitNames.has(entry.name);
      if (named) finds.gitEntries.add(path);
      if (entry.name === 'hooks' || entry.name === 'info') return 'skip';
      // 'keep': what was recorded is replayed from the walk cache on a later start.
      return named || head ? 'keep' : undefined;
    }
    const top = TOP_LEVEL.has(entry.name);
    if (top) finds.found.add(path);
    const head = entry.name === 'HEAD' && !entry.isDirectory();
    if (head) finds.heads.add(dirname(path));
    const gitDir = entry.name === '.git' && entry.isDirectory();
    if (gitDir) finds.gitDirs.add(path);
    // A `.git` file (`gitdir: …`); a `.git` symlink is not one (the walk cache keeps no file type).
    const gitFile = entry.name === '.git' && !entry.isDirectory() && isRegularFile(path);
    if (gitFile) finds.found.add(path);
    return top || gitDir || gitFile || head ? 'keep' : undefined;
  };
}
