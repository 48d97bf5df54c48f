/** Loads third-party plugins named in the settings (`plugins`) or on the command line (`--plugin`). */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { errors } from './errors.js';
import type { FencePlugin } from './plugin.js';

function isPlugin(value: unknown): value is FencePlugin {
  const p = value as Partial<FencePlugin> | undefined;
  return !!p && typeof p.name === 'string' && Array.isArray(p.platforms) && typeof p.detect === 'function' && typeof p.apply === 'function';
}

/** Resolves each name from `cwd` (a package name or a path) and takes its default export. */
export async function loadPlugins(names: readonly string[], cwd: string): Promise<FencePlugin[]> {
  const require = createRequire(join(cwd, 'fence-plugin-resolver.js'));
  return Promise.all(
    names.map(async (name) => {
      let mod: { default?: unknown };
      try {
        // An absolute path, not a file: URL: the bundled CLI turns import() into require(), which
        // loads ESM plugins too (require(esm)) but only by path.
        mod = (await import(require.resolve(name))) as { default?: unknown };
      } catch (e) {
        throw errors.pluginLoad(name, e instanceof Error ? e.message.split('\n')[0]! : String(e));
      }
      if (!isPlugin(mod.default)) {
        throw errors.pluginLoad(name, 'its default export is not a Fence plugin (name, platforms, detect, apply)');
      }
      return mod.default;
    }),
  );
}
