/**
 * Loads third-party plugins named in the settings (`plugins`) or on the command line (`--plugin`).
 * A plugin runs on the host with the user's rights at every start, so one the sandbox could write
 * (or shadow with an earlier `node_modules` on the lookup path) is refused: a command could
 * otherwise plant code that the next run executes outside the sandbox.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { errors } from './errors.js';
import type { FencePlugin } from './plugin.js';
import { isWithin } from './settings/paths.js';

export interface LoadedPlugins {
  readonly plugins: FencePlugin[];
  /** Each plugin's package directory (or file): to be kept read-only in the sandbox. */
  readonly paths: string[];
}

function isPlugin(value: unknown): value is FencePlugin {
  const p = value as Partial<FencePlugin> | undefined;
  return !!p && typeof p.name === 'string' && Array.isArray(p.platforms) && typeof p.detect === 'function' && typeof p.apply === 'function';
}

const isBare = (name: string): boolean => !isAbsolute(name) && !name.startsWith('./') && !name.startsWith('../') && name !== '.' && name !== '..';

/** The nearest directory with a package.json at or above `file`, else the file itself. */
function packageRoot(file: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return file;
}

/** Why `real` (the resolved plugin) could be changed by a sandboxed command, if it could. */
function writableBy(name: string, real: string, cwd: string, writable: readonly string[]): string | undefined {
  const root = writable.find((w) => isWithin(real, w));
  if (root) return `it is in ${root}, which the sandbox may write (filesystem.allowWrite)`;
  if (!isBare(name)) return undefined;
  // Node looks in cwd/node_modules, then each parent's: an earlier one the sandbox can write shadows it.
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (isWithin(real, candidate)) return undefined;
    const shadow = writable.find((w) => isWithin(candidate, w));
    if (shadow) return `the sandbox may write ${candidate} (filesystem.allowWrite ${shadow}), where a package of that name would be loaded instead`;
    if (dir === dirname(dir)) return undefined;
  }
}

/**
 * Resolves each name from `cwd` (a package name or a path) and takes its default export. `writable`
 * are the paths the sandbox may write (the policy's allowWrite).
 */
export async function loadPlugins(names: readonly string[], cwd: string, writable: readonly string[] = []): Promise<LoadedPlugins> {
  const require = createRequire(join(cwd, 'fence-plugin-resolver.js'));
  const loaded = await Promise.all(
    names.map(async (name) => {
      let resolved: string;
      try {
        resolved = realpathSync(require.resolve(name));
      } catch (e) {
        throw errors.pluginLoad(name, e instanceof Error ? e.message.split('\n')[0]! : String(e));
      }
      const unsafe = writableBy(name, resolved, cwd, writable);
      if (unsafe) throw errors.pluginUnsafe(name, unsafe);
      let mod: { default?: unknown };
      try {
        // An absolute path, not a file: URL: the bundled CLI turns import() into require(), which
        // loads ESM plugins too (require(esm)) but only by path.
        mod = (await import(resolved)) as { default?: unknown };
      } catch (e) {
        throw errors.pluginLoad(name, e instanceof Error ? e.message.split('\n')[0]! : String(e));
      }
      if (!isPlugin(mod.default)) {
        throw errors.pluginLoad(name, 'its default export is not a Fence plugin (name, platforms, detect, apply)');
      }
      return { plugin: mod.default, path: packageRoot(resolved) };
    }),
  );
  return { plugins: loaded.map((l) => l.plugin), paths: loaded.map((l) => l.path) };
}
