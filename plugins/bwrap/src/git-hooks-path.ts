/**
 * Hooks kept outside the git directory: `core.hooksPath` (husky sets `.husky/_`) names a directory
 * whose programs a host `git commit` runs, so the command must not write there. The value is read
 * from the configuration files themselves at start-up (running `git config` per repository would
 * cost a process each), with git's rules: the repository's config wins over the user's
 * (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`), which wins over `/etc/gitconfig`; a relative
 * path is relative to the working tree (to the git directory of a bare repository); `~/` is $HOME.
 * `include`/`includeIf` files are not followed.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';

/** The unquoted, unescaped value of a git config value text (after `=`), without its comment. */
function configValue(raw: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i]!;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n;
    } else if (!quoted && (c === '#' || c === ';')) break;
    else out += c;
  }
  return quoted ? out : out.trim();
}

/**
 * The last `core.<key>` of a git config text (git's "last one wins"), or undefined. Section and
 * key names are case-insensitive; a line ending in `\` continues on the next.
 */
export function coreValue(text: string, key: string): string | undefined {
  let inCore = false;
  let value: string | undefined;
  const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/);
  for (let line of lines) {
    line = line.trimStart();
    const header = /^\[([^\]]*)\](.*)$/.exec(line);
    if (header) {
      inCore = header[1]!.trim().toLowerCase() === 'core';
      line = header[2]!.trimStart();
    }
    if (!inCore || line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(=(.*))?$/.exec(line);
    if (!entry || entry[1]!.toLowerCase() !== key.toLowerCase()) continue;
    value = entry[2] === undefined ? 'true' : configValue(entry[3]!);
  }
  return value;
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The user's and the system's git config files, lowest priority first. */
export function userGitConfigs(home: string, env: NodeJS.ProcessEnv): string[] {
  const xdg = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : `${home}/.config`;
  return ['/etc/gitconfig', `${xdg}/git/config`, `${home}/.gitconfig`];
}

/**
 * The hooks directory each of `gitDirs` names through `core.hooksPath`, as absolute paths (none
 * for a repository that keeps its hooks in its git directory).
 */
export function hooksPathDirs(gitDirs: Iterable<string>, home: string, env: NodeJS.ProcessEnv): string[] {
  const user = userGitConfigs(home, env).reduce<string | undefined>((found, f) => coreValue(readText(f), 'hooksPath') ?? found, undefined);
  const out = new Set<string>();
  for (const git of gitDirs) {
    const config = readText(`${git}/config`);
    const value = coreValue(config, 'hooksPath') ?? user;
    if (value === undefined || value === '') continue;
    const worktree = coreValue(config, 'worktree');
    const root = worktree !== undefined ? resolve(git, worktree) : basename(git) === '.git' ? dirname(git) : git;
    const expanded = value === '~' ? home : value.startsWith('~/') ? `${home}${value.slice(1)}` : value;
    out.add(isAbsolute(expanded) ? resolve(expanded) : resolve(root, expanded));
  }
  return [...out];
}
