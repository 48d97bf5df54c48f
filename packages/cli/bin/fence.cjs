#!/usr/bin/env node
'use strict';
// The installed `fence` command. Loads the bundled CLI through a V8 code cache (Node 20 has no
// built-in compile cache), which saves most of the parse/compile time at every start.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const args = process.argv.slice(2);
if (args.length === 1 && ['-v', '--version', '-h', '--help'].includes(args[0])) {
  const { HELP, VERSION } = require('../dist/static.cjs');
  process.stdout.write(args[0] === '-v' || args[0] === '--version' ? `fence ${VERSION}\n` : HELP);
  return;
}
const file = path.join(__dirname, '../dist/fence.cjs');
const cacheFile = `${file}.cache`;
if (!fs.existsSync(file)) {
  process.stderr.write('fence: the CLI is not built; run: npm run build\n');
  process.exit(1);
}
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {}
const source = fs.readFileSync(file, 'utf8');
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (process.env.FENCE_WRITE_CODE_CACHE === '1' || script.cachedDataRejected) {
  process.once('beforeExit', () => {
    try {
      fs.writeFileSync(cacheFile, script.createCachedData());
    } catch {} // a read-only install keeps working, only slower
  });
}
const m = new Module(file, module);
m.filename = file;
m.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext().call(m.exports, m.exports, (id) => m.require(id), m, file, path.dirname(file));
