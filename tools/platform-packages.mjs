// Builds the per-platform package of the CLI, @fence/cli-<os>-<cpu>, for this machine: the
// bundled CLI plus the prebuilt native files, with no dependencies, so its tarball installs
// offline. Each platform's package is built on that platform (its native files are compiled there).
//
//   node tools/platform-packages.mjs [--out <dir>]   → <dir>/fence-cli-<os>-<cpu>-<version>.tgz
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleCli } from './bundle-cli.mjs';

/** Every published platform, as npm's os and cpu; the native files each one carries. */
export const PLATFORMS = [
  { os: 'linux', cpu: 'x64', native: ['fence_native.node', 'fence-launch'] },
  { os: 'linux', cpu: 'arm64', native: ['fence_native.node', 'fence-launch'] },
  { os: 'darwin', cpu: 'arm64', native: [] },
  { os: 'darwin', cpu: 'x64', native: [] },
];

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const out = resolve(args[args.indexOf('--out') + 1] && args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'dist-packages'));
const platform = PLATFORMS.find((p) => p.os === process.platform && p.cpu === process.arch);
if (!platform) {
  console.error(`platform-packages: no package for ${process.platform}-${process.arch}; supported: ${PLATFORMS.map((p) => `${p.os}-${p.cpu}`).join(', ')}`);
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));
const name = `cli-${platform.os}-${platform.cpu}`;
const stage = join(out, name);
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });
mkdirSync(join(stage, 'dist/native/build/Release'), { recursive: true });

for (const f of ['fence', 'fence.cjs']) copyFileSync(join(root, 'packages/cli/bin', f), join(stage, 'bin', f));
chmodSync(join(stage, 'bin/fence'), 0o755);
// The native package's locator, next to the bundle: it finds the files in build/Release beside it.
copyFileSync(join(root, 'native/fence-native/index.js'), join(stage, 'dist/native/index.cjs'));
for (const f of platform.native) {
  const file = join(root, 'native/fence-native/build/Release', f);
  if (!existsSync(file)) {
    console.error(`platform-packages: ${file} is missing; build it first: npm rebuild @fence/native`);
    process.exit(1);
  }
  copyFileSync(file, join(stage, 'dist/native/build/Release', f));
}
await bundleCli({ outDir: join(stage, 'dist'), loader: join(stage, 'bin/fence.cjs'), native: './native/index.cjs' });
writeFileSync(
  join(stage, 'package.json'),
  `${JSON.stringify(
    {
      name: `@fence/${name}`,
      version,
      description: `Fence for ${platform.os}-${platform.cpu}: the bundled fence command and its native files`,
      license: 'MIT',
      os: [platform.os],
      cpu: [platform.cpu],
      bin: { fence: 'bin/fence' },
      engines: { node: '>=20.19' },
    },
    null,
    2,
  )}\n`,
);
writeFileSync(join(stage, 'README.md'), `# @fence/${name}\n\nThe \`fence\` command for ${platform.os}-${platform.cpu}, with no dependencies: \`npm install -g ./fence-${name}-${version}.tgz\` works offline.\nSee the Fence repository for documentation.\n`);
const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' });
if (pack.status !== 0) {
  console.error(`platform-packages: npm pack failed: ${pack.stderr}`);
  process.exit(1);
}
console.log(join(out, pack.stdout.trim().split('\n').pop()));
