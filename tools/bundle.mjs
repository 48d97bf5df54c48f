// Bundles the CLI (from the tsc output, so decorator metadata survives) into one CommonJS file,
// packages/cli/dist/fence.cjs, then writes its V8 code cache and a startup snapshot (snapshot.mjs).
// Plugins stay lazily evaluated (dynamic imports become lazy module initialisers), and only the
// native addon stays external.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSnapshot, removeSnapshot } from './snapshot.mjs';

const cli = resolve(import.meta.dirname, '../packages/cli');
const outfile = resolve(cli, 'dist/fence.cjs');
// A snapshot exists only for the bundle next to it: a failed build leaves none.
removeSnapshot(outfile);
await build({
  entryPoints: [resolve(cli, 'dist/bin.js')],
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
  entryPoints: [resolve(cli, 'dist/static.js')],
  outfile: resolve(cli, 'dist/static.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
rmSync(`${outfile}.cache`, { force: true });
// Run once so the loader writes the code cache next to the bundle.
const r = spawnSync(process.execPath, [resolve(cli, 'bin/fence.cjs'), 'config', 'schema'], {
  stdio: 'ignore',
  env: { ...process.env, FENCE_WRITE_CODE_CACHE: '1' },
});
if (r.status !== 0) {
  console.error('bundle: the bundled CLI failed to start (fence config schema)');
  process.exit(1);
}
buildSnapshot(outfile);
