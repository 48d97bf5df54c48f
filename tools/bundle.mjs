// Bundles the CLI into packages/cli/dist (bundle-cli.mjs), then builds its startup snapshot
// (snapshot.mjs). Run by @fence/cli's build.
import { resolve } from 'node:path';
import { bundleCli } from './bundle-cli.mjs';
import { buildSnapshot, removeSnapshot } from './snapshot.mjs';

const cli = resolve(import.meta.dirname, '../packages/cli');
const outfile = resolve(cli, 'dist/fence.cjs');
// A snapshot exists only for the bundle next to it: a failed build leaves none.
removeSnapshot(outfile);
try {
  await bundleCli({ outDir: resolve(cli, 'dist'), loader: resolve(cli, 'bin/fence.cjs') });
} catch (e) {
  console.error(`bundle: ${e.message}`);
  process.exit(1);
}
buildSnapshot(outfile);
