// Generates a new plugin package.
//
//   node tools/new-plugin.mjs <name>              → plugins/<name> (@fence/plugin-<name>), registered
//                                                  as a built-in layer of @fence/cli (plugins.ts, its
//                                                  dependencies, its tsconfig references)
//   node tools/new-plugin.mjs <name> --out <dir>  → <dir>: fence-plugin-<name>, a third-party package
//                                                  built on its own (npm install && npm run build),
//                                                  loaded by name: fence --plugin fence-plugin-<name>
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pluginFiles } from './plugin-template.mjs';

const root = resolve(import.meta.dirname, '..');
const [name] = process.argv.slice(2);
const out = process.argv.includes('--out') ? resolve(process.argv[process.argv.indexOf('--out') + 1]) : undefined;
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: node tools/new-plugin.mjs <name> [--out <dir>]   (name: lower-case letters, digits and dashes)');
  process.exit(1);
}
const dir = out ?? join(root, 'plugins', name);
if (existsSync(join(dir, 'package.json'))) {
  console.error(`new-plugin: ${dir} already holds a package; choose another name or directory`);
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8'));
for (const [file, text] of Object.entries(pluginFiles(name, { version, standalone: out !== undefined }))) {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), text.endsWith('\n') ? text : `${text}\n`);
}

/** Makes the new in-repository layer a built-in one of @fence/cli, as the structure test requires. */
function register() {
  const pkg = `@fence/plugin-${name}`;
  const edit = (file, change) => writeFileSync(join(root, file), change(readFileSync(join(root, file), 'utf8')));
  edit('packages/cli/src/plugins.ts', (text) => {
    const linux = /( {2}linux: \[\n(?: {4}.*\n)*?)( {2}\],)/;
    if (!linux.test(text)) throw new Error('new-plugin: packages/cli/src/plugins.ts has no "linux: [" list; register the plugin by hand');
    return text.replace(linux, `$1    () => import('${pkg}'),\n$2`);
  });
  // A text edit, not JSON.stringify: the rest of the file keeps its formatting.
  edit('packages/cli/package.json', (text) =>
    text.replace(/("dependencies": \{\n)((?: {4}.*\n)*?)( {2}\})/, (_, open, lines, close) =>
      `${open}${[...lines.split('\n').filter(Boolean).map((l) => l.replace(/,?$/, ',')), `    "${pkg}": "${version}",`].sort().join('\n').replace(/,$/, '')}\n${close}`,
    ),
  );
  edit('packages/cli/tsconfig.lib.json', (text) => {
    const json = JSON.parse(text);
    json.references.push({ path: `../../plugins/${name}/tsconfig.lib.json` });
    return `${JSON.stringify(json, null, 2)}\n`;
  });
}

if (out === undefined) {
  register();
  console.log(`created ${dir} and registered it in packages/cli; run npm install, then npm run build`);
} else {
  console.log(`created ${dir}; run npm install && npm run build there, then: fence --plugin fence-plugin-${name} -d -- true`);
}
