// Packs every publishable package for a release into one directory, ready for `npm publish <tgz>`:
// the workspace packages that are not private, @fence/cli with its platform packages as optional
// dependencies, and each platform package this machine can build (platform-packages.mjs).
//
//   node tools/pack.mjs [--out <dir>]   → one tarball path per line (default dir: dist-packages)
//
// Run after `npm run build`. The optional dependencies are added to @fence/cli's manifest here, not
// in packages/cli/package.json: inside the monorepo npm would look them up on the public registry
// (and `npm ci` would need them in the lockfile) before they are ever published.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildPlatformPackage, packageName, platformName, PLATFORMS } from './platform-packages.mjs';

const root = resolve(import.meta.dirname, '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Directories of the workspace packages that are published (not private). */
export function publishableDirs() {
  const dirs = readJson(join(root, 'package.json')).workspaces.flatMap((w) =>
    w.endsWith('/*') ? readdirSync(join(root, w.slice(0, -2))).map((d) => join(root, w.slice(0, -2), d)) : [join(root, w)],
  );
  return dirs.filter((d) => {
    try {
      return !readJson(join(d, 'package.json')).private;
    } catch {
      return false; // not a package
    }
  });
}

function npmPack(cwd, out) {
  const r = spawnSync('npm', ['pack', '--json', '--pack-destination', out], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pack: npm pack in ${cwd} failed:\n${r.stderr}`);
  return join(out, JSON.parse(r.stdout)[0].filename);
}

/** @fence/cli as published: its own files, and every platform package as an optional dependency. */
function packCli(dir, out) {
  const listed = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: dir, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`pack: npm pack --dry-run in ${dir} failed:\n${listed.stderr}`);
  const stage = join(out, 'cli');
  rmSync(stage, { recursive: true, force: true });
  for (const { path } of JSON.parse(listed.stdout)[0].files) {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    copyFileSync(join(dir, path), join(stage, path));
  }
  const manifest = readJson(join(dir, 'package.json'));
  manifest.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [packageName(p), manifest.version]));
  delete manifest.nx;
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return npmPack(stage, out);
}

/** Packs everything into `out`; returns the tarballs. Platforms this machine cannot build are reported. */
export function packAll(out, warn = console.warn) {
  mkdirSync(out, { recursive: true });
  const tarballs = publishableDirs().map((dir) => (readJson(join(dir, 'package.json')).name === '@fence/cli' ? packCli(dir, out) : npmPack(dir, out)));
  for (const p of PLATFORMS) {
    try {
      tarballs.push(buildPlatformPackage(platformName(p), out));
    } catch (e) {
      warn(`pack: ${packageName(p)} skipped: ${e.message}`);
    }
  }
  return tarballs;
}

if (process.argv[1] === import.meta.filename) {
  const out = resolve(process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : join(root, 'dist-packages'));
  try {
    console.log(packAll(out).join('\n'));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
