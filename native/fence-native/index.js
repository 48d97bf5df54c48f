'use strict';
// @fence/native: where the native files are (the helper plan's types and encoder are in @fence/linux-helper).
// `exports.x = ...` form on purpose: cjs-module-lexer then exposes every name to ESM `import {}`.
const fs = require('node:fs');
const path = require('node:path');

const ADDON_FILE = 'fence_native.node';
const HELPER_FILE = 'fence-launch';
const LOCAL_BUILD = path.join(__dirname, 'build', 'Release');

/**
 * The prebuilt native files come in `@fence/cli-<platform>-<arch>`, an optional dependency of
 * @fence/cli that npm installs only on its platform (tools/platform-packages.mjs builds them).
 */
const PLATFORM_PACKAGE = `@fence/cli-${process.platform}-${process.arch}`;
exports.PLATFORM_PACKAGE = PLATFORM_PACKAGE;

/** Directory of the installed platform package, if any. */
function platformPackageDir() {
  try {
    return path.dirname(require.resolve(`${PLATFORM_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}
exports.platformPackageDir = platformPackageDir;

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Absolute path of `fence-launch`: $FENCE_LAUNCH_PATH when set (empty disables the helper), else
 * the platform package's, else the local build's; undefined when none is an executable file.
 */
exports.helperPath = function helperPath() {
  const override = process.env.FENCE_LAUNCH_PATH;
  if (override !== undefined) {
    return override !== '' && path.isAbsolute(override) && isExecutableFile(override) ? override : undefined;
  }
  if (process.platform !== 'linux') return undefined;
  const dirs = [platformPackageDir(), LOCAL_BUILD].filter((dir) => dir !== undefined);
  return dirs.map((dir) => path.join(dir, HELPER_FILE)).find(isExecutableFile);
};

let loaded; // undefined: not tried yet; null: tried, not available
/** The addon from the platform package, else the local build; undefined when neither loads. */
exports.addon = function addon() {
  if (loaded === undefined) {
    loaded = null;
    for (const dir of [platformPackageDir(), LOCAL_BUILD]) {
      if (dir === undefined || !fs.existsSync(path.join(dir, ADDON_FILE))) continue;
      try {
        loaded = require(path.join(dir, ADDON_FILE));
        break;
      } catch {
        // A file for another platform or a broken build: try the next place.
      }
    }
  }
  return loaded === null ? undefined : loaded;
};
