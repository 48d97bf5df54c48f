/**
 * The mandatory protected names (SPEC §4.1), as data: the one list that the Linux (bwrap) and
 * macOS (Seatbelt) layers both enforce, each in its own way. They are files and directories that
 * make a later, unsandboxed program run code or read configuration the command chose: shell start
 * files, git's own files, editor and MCP settings, and Fence's settings.
 */

/** Files protected in the working directory (any depth), at the top of $HOME and of writable roots. */
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

/** Directories protected with everything inside them, where PROTECTED_FILES are. */
export const PROTECTED_DIRS = ['.vscode', '.idea'] as const;

/** Fence's settings names, also protected in every parent of the working directory (discovery reads them). */
export const SETTINGS_FILES = ['fence.json', 'fence.jsonc'] as const;

/**
 * Inside a git directory, at any depth (submodules keep theirs under `modules/<name>`, linked
 * worktrees under `worktrees/<name>`): what makes a host `git` run code (`hooks`) or read
 * configuration and repository data from elsewhere (`commondir` and `gitdir` point at another
 * git directory, `info/` holds attributes and sparse-checkout rules, and `config` and
 * `config.worktree` unless the policy allows changing git config). None of them is written by
 * `git add` or `git commit`.
 */
export const GIT_PROTECTED_NAMES = ['hooks', 'info', 'commondir', 'gitdir'] as const;

/** The names protected inside a git directory under this policy (`allowGitConfig` frees both config files). */
export const gitProtectedNames = (allowGitConfig: boolean): string[] => (allowGitConfig ? [...GIT_PROTECTED_NAMES] : [...GIT_PROTECTED_NAMES, 'config.worktree', 'config']);

