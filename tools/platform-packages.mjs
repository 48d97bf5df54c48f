// Builds the per-platform package @fence/cli-<os>-<cpu>, esbuild's way: only `os`, `cpu` and the
// prebuilt native files, so installing @fence/cli (which lists every one of them as an optional
// dependency, tools/pack.mjs) needs no compiler. @fence/native finds the files in it (index.js).
//
//   node tools/platform-packages.mjs [--target <os>-<cpu>] [--out <dir>]
//     → <dir>/fence-cli-<os>-<cpu>-<version>.tgz   (default target: this machine; dir: dist-packages)
//
// The native files are compiled for the target: this machine's build (native/fence-native/build),
// or a cross build when the table names a cross compiler for this machine (linux-arm64 on
// linux-x64, with Debian's gcc-aarch64-linux-gnu). Anything else is built on its own platform:
// the darwin packages on a Mac (they carry no native files today, so any machine can pack them).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Every published platform, as npm's os and cpu; the native files each carries; cross compilers by host. */
export const PLATFORMS = [
  { os: 'linux', cpu: 'x64', native: ['fence_native.node', 'fence-launch'] },
  {
    os: 'linux',
    cpu: 'arm64',
    native: ['fence_native.node', 'fence-launch'],
    cross: { 'linux-x64': { processor: 'aarch64', cc: 'aarch64-linux-gnu-gcc', cxx: 'aarch64-linux-gnu-g++' } },
  },
  // Seatbelt needs no helper: nothing native runs on macOS yet.
  { os: 'darwin', cpu: 'arm64', native: [] },
  { os: 'darwin', cpu: 'x64', native: [] },
];

const root = resolve(import.meta.dirname, '..');
const nativeDir = join(root, 'native/fence-native');
export const platformName = (p) => `${p.os}-${p.cpu}`;
export const packageName = (p) => `@fence/cli-${platformName(p)}`;

/** The published package.json of a platform package. */
export function platformManifest(platform, version) {
  return {
    name: packageName(platform),
    version,
    description: `Fence's prebuilt native files for ${platformName(platform)} (installed by @fence/cli)`,
    license: 'MIT',
    os: [platform.os],
    cpu: [platform.cpu],
    files: [...platform.native, 'README.md'],
    // Yarn Plug'n'Play keeps packages zipped; a program inside a zip cannot be executed.
    preferUnplugged: true,
  };
}

function fail(message) {
  throw new Error(`platform-packages: ${message}`);
}

/** Directory holding the target's compiled native files (compiling them when cross-building). */
function compiledNative(platform) {
  const host = `${process.platform}-${process.arch}`;
  if (platform.native.length === 0) return undefined;
  if (platformName(platform) === host) return join(nativeDir, 'build/Release');
  const cross = platform.cross?.[host];
  if (!cross) fail(`${platformName(platform)} is built on ${platformName(platform)} (no cross compiler from ${host}); run this script there`);
  if (spawnSync(cross.cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(`the cross compiler ${cross.cc} is missing; install it (Debian: apt-get install gcc-${cross.processor}-linux-gnu g++-${cross.processor}-linux-gnu)`);
  }
  const out = join(nativeDir, 'build', platformName(platform));
  const cmakeJs = join(root, 'node_modules/cmake-js/bin/cmake-js');
  const defs = { CMAKE_SYSTEM_NAME: 'Linux', CMAKE_SYSTEM_PROCESSOR: cross.processor, CMAKE_C_COMPILER: cross.cc, CMAKE_CXX_COMPILER: cross.cxx };
  const args = [cmakeJs, 'compile', '--arch', platform.cpu, '--out', out, ...Object.entries(defs).map(([k, v]) => `--CD${k}=${v}`)];
  const built = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8' });
  if (built.status !== 0) fail(`cross build for ${platformName(platform)} failed:\n${built.stdout}${built.stderr}`);
  return join(out, 'Release');
}

/** Stages and packs one platform package; returns the tarball's path. */
export function buildPlatformPackage(target, out) {
  const platform = PLATFORMS.find((p) => platformName(p) === target);
  if (!platform) fail(`no package for ${target}; supported: ${PLATFORMS.map(platformName).join(', ')}`);
  const { version } = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));
  const stage = join(out, `cli-${target}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const from = compiledNative(platform);
  for (const f of platform.native) {
    const file = join(from, f);
    if (!existsSync(file)) fail(`${file} is missing; build it first: npm rebuild @fence/native`);
    copyFileSync(file, join(stage, f));
    chmodSync(join(stage, f), 0o755);
  }
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(platformManifest(platform, version), null, 2)}\n`);
  writeFileSync(
    join(stage, 'README.md'),
    `# ${packageName(platform)}\n\nThe prebuilt native files of Fence for ${target}. Do not install it directly: install \`@fence/cli\`, which\nlists it as an optional dependency, and npm picks the one for your platform.\n`,
  );
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' });
  if (pack.status !== 0) fail(`npm pack failed: ${pack.stderr}`);
  return join(out, pack.stdout.trim().split('\n').pop());
}

if (process.argv[1] === import.meta.filename) {
  const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
  try {
    console.log(buildPlatformPackage(arg('--target', `${process.platform}-${process.arch}`), resolve(arg('--out', join(root, 'dist-packages')))));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
