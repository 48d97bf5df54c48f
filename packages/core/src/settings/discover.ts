/**
 * Settings discovery (SPEC §2), first found wins: `fence.jsonc` or `fence.json` in the working
 * directory or any parent; `$XDG_CONFIG_HOME/fence/fence.jsonc|json` (`~/.config` when unset or
 * not absolute); `~/.fence.json`. In one directory `fence.jsonc` is tried before `fence.json`.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

const NAMES = ['fence.jsonc', 'fence.json'];

function* ancestors(directory: string): Generator<string> {
  let current = directory;
  for (;;) {
    yield current;
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Where the user's own settings file is looked for, in order (what `"extends": "@base"` names). */
export function userSettingsCandidates(home: string, env: NodeJS.ProcessEnv): string[] {
  const xdg = env.XDG_CONFIG_HOME !== undefined && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return [...NAMES.map((name) => path.join(xdg, 'fence', name)), path.join(home, '.fence.json')];
}

/** Every place a settings file is looked for, in order. */
export function settingsCandidates(cwd: string, home: string, env: NodeJS.ProcessEnv): string[] {
  return [...[...ancestors(cwd)].flatMap((dir) => NAMES.map((name) => path.join(dir, name))), ...userSettingsCandidates(home, env)];
}

/**
 * Whether `file` is a settings file. Inside a Fence sandbox (FENCE_SANDBOX=1), an empty one is
 * Fence's read-only placeholder for a missing settings name (the sandbox must not plant settings
 * for the next run), not settings: `fence` run by an agent's hook inside finds what lies beyond.
 */
function isSettingsFile(file: string, insideFence: boolean): boolean {
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    return stat !== undefined && stat.isFile() && !(insideFence && stat.size === 0);
  } catch {
    // An unreadable directory on the way (EACCES) holds no settings we could use.
    return false;
  }
}

/** The user's own settings file, or undefined when there is none. */
export function userSettingsFile(home: string, env: NodeJS.ProcessEnv): string | undefined {
  const insideFence = env.FENCE_SANDBOX === '1';
  return userSettingsCandidates(home, env).find((file) => isSettingsFile(file, insideFence));
}

/** The settings file that applies in `cwd`, or undefined when there is none. */
export function discoverSettingsFile(cwd: string, home: string, env: NodeJS.ProcessEnv): string | undefined {
  const insideFence = env.FENCE_SANDBOX === '1';
  return settingsCandidates(cwd, home, env).find((file) => isSettingsFile(file, insideFence));
}
