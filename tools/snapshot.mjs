// Builds dist/fence.blob, a V8 startup snapshot of the CLI bundle, which bin/fence starts Node
// from: zod schemas, tsyringe, tapable, the commands, the plugins and the builtins they load are
// already in the heap, so a start skips evaluating (and compiling) them.
//
// A blob only loads in the Node binary that built it: dist/fence.blob.node links to that binary,
// and bin/fence uses the blob only while `node` on PATH is that same, unmodified file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The entry for `node --build-snapshot`: the bundle, run with what the builder lacks. */
function snapshotEntry(bundle) {
  return `{
  // The bundle's own path, as Module.wrap would pass it. It is the path at run time (bin/fence passes
  // it as the first argument), not the build's: a moved installation resolves its files correctly.
  let __filename = ${JSON.stringify(bundle)};
  let __dirname = ${JSON.stringify(dirname(bundle))};
  require('v8').startupSnapshot.addDeserializeCallback(() => {
    __filename = require('path').resolve(process.argv[1]);
    __dirname = require('path').dirname(__filename);
  });
  // The builder's require loads only builtins; packages (@fence/native) are loaded at run time.
  const builtinRequire = require;
  let packageRequire;
  const bundleRequire = (id) => {
    try {
      return builtinRequire(id);
    } catch (e) {
      if (e?.code !== 'MODULE_NOT_FOUND') throw e;
    }
    packageRequire ??= builtinRequire('module').createRequire(__filename);
    return packageRequire(id);
  };
  (function (exports, require, module) {
${readFileSync(bundle, 'utf8').replace(/^#!.*/, '')}
  })({}, bundleRequire, { exports: {} });
}
`;
}

const blobPath = (bundle) => join(dirname(bundle), 'fence.blob');

export function removeSnapshot(bundle) {
  rmSync(blobPath(bundle), { force: true });
  rmSync(`${blobPath(bundle)}.node`, { force: true });
}

/** Writes dist/fence.blob and its Node marker, or removes them (with a warning) when that fails. */
export function buildSnapshot(bundle) {
  const dist = dirname(bundle);
  const blob = blobPath(bundle);
  const marker = `${blob}.node`;
  removeSnapshot(bundle);
  const tmp = mkdtempSync(join(dist, '.snapshot-'));
  try {
    const entry = join(tmp, 'entry.cjs');
    writeFileSync(entry, snapshotEntry(bundle));
    const built = spawnSync(process.execPath, ['--snapshot-blob', join(tmp, 'fence.blob'), '--build-snapshot', entry], { encoding: 'utf8' });
    // The builder warns that child_process is "not fully verified" in snapshots; the e2e suite
    // runs every launch path from the snapshot. Its output is shown only when the build fails.
    if (built.status !== 0) throw new Error(`node --build-snapshot failed:\n${built.stderr}`);
    // Smoke test before installing it: a broken blob crashes Node before any fallback can run.
    const check = spawnSync(process.execPath, ['--snapshot-blob', join(tmp, 'fence.blob'), bundle, 'config', 'schema'], { encoding: 'utf8' });
    if (check.status !== 0 || !check.stdout.startsWith('{')) throw new Error(`the snapshot does not start:\n${check.stderr}`);
    // Renamed into place: bin/fence must never see a partly written blob (nor a concurrent build fail).
    symlinkSync(realpathSync(process.execPath), join(tmp, 'node'));
    renameSync(join(tmp, 'node'), marker);
    renameSync(join(tmp, 'fence.blob'), blob);
  } catch (e) {
    rmSync(blob, { force: true });
    console.warn(`bundle: no startup snapshot, fence starts through the code cache (${e.message})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
