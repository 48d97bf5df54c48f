/**
 * Mandatory write protection: files that make a later, unsandboxed program run code (shell start
 * files, git hooks and config, editor and MCP settings) stay read-only even inside writable paths.
 * Searched to any depth in the working directory (during the shared walk) and at the top of
 * $HOME and of every writable root, where a missing name gets a read-only placeholder.
 */
import type { Dirent } from 'node:fs';
import type { WalkVisitor } from './glob-expand.js';

export const PROTECTED_FILES = [
  '.bashrc',
  '.bash_profile',
  '.zshrc',
  '.zprofile',
  '.profile',
  '.gitconfig',
  '.gitmodules',
  '.ripgreprc',
  '.mcp.json',
  // Fence's own settings: a planted one would change (or run code in) the next run on the host.
  'fence.json',
  'fence.jsonc',
  '.fence.json',
] as const;

/** Fence's settings names, also protected in every parent of the working directory (discovery reads them). */
export const SETTINGS_FILES = ['fence.json', 'fence.jsonc'] as const;

export const PROTECTED_DIRS = ['.vscode', '.idea'] as const;

/**
 * Inside a git directory, everything that makes a host `git` run code or read configuration from
 * elsewhere: hooks; `info/` (attributes pick filter drivers, exclude, grafts); `commondir`, which
 * moves config, hooks and refs to any directory; the worktree back-pointer `gitdir`; and, unless
 * the policy allows changing git config, `config` and `config.worktree`. Objects, refs, logs, the
 * index and HEAD stay writable, so `git add` and `git commit` work inside.
 */
export const gitProtectedNames = (allowGitConfig: boolean): string[] => [
  'hooks',
  'info',
  'commondir',
  'gitdir',
  ...(allowGitConfig ? [] : ['config', 'config.worktree']),
];

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
}

/** The git directories and protected entries of a walk (which sees a directory's entries in any order). */
export function gitFinds(finds: ProtectedFinds): string[] {
  return [...finds.gitEntries].filter((p) => finds.gitDirs.has(p.slice(0, p.lastIndexOf('/'))));
}

/**
 * A walk visitor for the working directory. Inside any `.git` tree, every directory holding `HEAD`
 * is a git directory too (linked worktrees under `worktrees/<name>`, submodules under
 * `modules/<path>`), with the same protected names; `objects` is never entered. A `.git` file
 * (`gitdir: …`, submodules and worktrees) is protected itself, so it cannot be re-pointed.
 */
export function protectedPathVisitor(allowGitConfig: boolean, finds: ProtectedFinds): WalkVisitor {
  const gitNames = new Set(gitProtectedNames(allowGitConfig));
  return (path: string, entry: Dirent) => {
    const inGit = path.includes('/.git/');
    if (inGit) {
      if (entry.name === 'objects' && entry.isDirectory()) return 'skip';
      // logs/HEAD is the reflog, not a git directory's HEAD.
      if (entry.name === 'HEAD' && !path.endsWith('/logs/HEAD')) finds.gitDirs.add(path.slice(0, -'/HEAD'.length));
      if (gitNames.has(entry.name)) finds.gitEntries.add(path);
      return entry.name === 'hooks' || entry.name === 'info' ? 'skip' : undefined;
    }
    if (TOP_LEVEL.has(entry.name)) finds.found.add(path);
    if (entry.name === '.git' && entry.isDirectory()) finds.gitDirs.add(path);
    if (entry.name === '.git' && entry.isFile()) finds.found.add(path);
    return undefined;
  };
}
