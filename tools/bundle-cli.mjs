// The CLI bundle (built by bundle.mjs, published in @fence/cli): one CommonJS file built from the
// tsc output, with plugins lazily evaluated (dynamic imports become lazy module initialisers) and
// only the native addon left outside; plus static.cjs for --version and --help; plus the V8 code
// cache, written by running the loader once.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const cliDist = resolve(import.meta.dirname, '../packages/cli/dist');

/**
 * Writes fence.cjs, fence.cjs.cache and static.cjs into `outDir`. The bundle requires
 * @fence/native (a dependency of @fence/cli), which finds the platform's native files.
 * `loader` is the code-cache loader (bin/fence.cjs) that runs `outDir/fence.cjs`.
 */
export async function bundleCli({ outDir, loader }) {
  const outfile = join(outDir, 'fence.cjs');
  await build({
    entryPoints: [join(cliDist, 'bin.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: process.env.FENCE_BUNDLE_MINIFY !== '0', // 0: readable names in CPU profiles
    legalComments: 'none',
    external: ['@fence/native'],
    // Prefer ESM entry points: jsonc-parser's CommonJS main is a UMD wrapper with dynamic requires.
    mainFields: ['module', 'main'],
    // The loader runs the bundle through vm.Script, where import() has no host callback: use require.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
    // import.meta.url is only used for locating files next to modules; the bundle provides it, read
    // when used: in the startup snapshot, __filename is only known at run time.
    define: { 'import.meta.url': '__fenceImportMeta.url' },
    banner: { js: 'var __fenceImportMeta={get url(){return require("url").pathToFileURL(__filename).href}};' },
  });
  // --version and --help are answered from this tiny file without loading the CLI bundle.
  await build({
    entryPoints: [join(cliDist, 'static.js')],
    outfile: join(outDir, 'static.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  rmSync(`${outfile}.cache`, { force: true });
  const r = spawnSync(process.execPath, [loader, 'config', 'schema'], { stdio: 'ignore', env: { ...process.env, FENCE_WRITE_CODE_CACHE: '1' } });
  if (r.status !== 0) throw new Error(`the bundled CLI failed to start (${loader} config schema)`);
  return outfile;
}
