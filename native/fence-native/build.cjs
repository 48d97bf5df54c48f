'use strict';
// Builds fence_native.node and fence-launch with cmake-js (npm `install` and `build` scripts),
// unless the platform package (@fence/cli-<platform>-<arch>, installed with @fence/cli) already
// brings them prebuilt: then an install needs no compiler. The build from source is the fallback.
// A failed build must not fail `npm ci` on a machine without a compiler: Fence then runs without
// Landlock and without the native helper, and says so. FENCE_NATIVE_REQUIRED=1 (CI) makes it fatal.
const { spawnSync } = require('node:child_process');
const { PLATFORM_PACKAGE, platformPackageDir } = require('./index.js');

function missing(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
}

function failureReason(result) {
  if (result.error) return result.error.message;
  if (missing('cmake')) return 'cmake not found';
  if (['cc', 'gcc', 'clang'].every(missing) || ['c++', 'g++', 'clang++'].every(missing)) return 'no C/C++ compiler found';
  if (result.signal) return `cmake-js was killed by ${result.signal}`;
  return `cmake-js compile exited with code ${result.status}`;
}

function build() {
  let cli;
  try {
    cli = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    return 'cmake-js is not installed';
  }
  const result = spawnSync(process.execPath, [cli, 'compile'], { cwd: __dirname, stdio: 'inherit' });
  return result.status === 0 ? undefined : failureReason(result);
}

// Only at install: an explicit `npm run build` (the repository's) always compiles.
const prebuilt = process.env.npm_lifecycle_event === 'install' && platformPackageDir() !== undefined;
const reason = prebuilt ? undefined : build();
if (reason !== undefined) {
  console.warn(
    `@fence/native: no prebuilt native files (${PLATFORM_PACKAGE} is not installed: an optional dependency of @fence/cli, ` +
      `left out by --omit=optional or not published for this platform) and the build from source failed (${reason}); ` +
      'Fence will run without Landlock and the native helper. Reinstall @fence/cli without --omit=optional, ' +
      'or install a C compiler and cmake, then run: npm rebuild @fence/native',
  );
  process.exitCode = process.env.FENCE_NATIVE_REQUIRED === '1' ? 1 : 0;
}
