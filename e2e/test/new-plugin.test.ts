/**
 * tools/new-plugin.mjs in a scratch copy of the files it reads and edits: its in-repository
 * package meets packages/cli/test/structure.test.ts's rules and is registered in @fence/cli. (The
 * third-party package it makes with --out is built, published and loaded by name in
 * registry-install.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'fence-e2e-new-plugin-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const COPIED = ['tools/new-plugin.mjs', 'tools/plugin-template.mjs', 'packages/core/package.json', 'packages/cli/package.json', 'packages/cli/tsconfig.lib.json', 'packages/cli/src/plugins.ts'];
for (const f of COPIED) {
  mkdirSync(dirname(join(scratch, f)), { recursive: true });
  copyFileSync(join(root, f), join(scratch, f));
}
const read = (f: string) => readFileSync(join(scratch, f), 'utf8');
const generate = (...args: string[]) => spawnSync(process.execPath, [join(scratch, 'tools/new-plugin.mjs'), ...args], { encoding: 'utf8' });

describe('tools/new-plugin.mjs', () => {
  it('makes a plugin package that meets the structure rules, with an entry point for --plugin <dir>', () => {
    const r = generate('rate-limit');
    expect(r.status, r.stderr).toBe(0);
    const pkg = JSON.parse(read('plugins/rate-limit/package.json'));
    expect(pkg).toMatchObject({ name: '@fence/plugin-rate-limit', main: './dist/index.js', exports: { '.': { default: './dist/index.js' } } });
    expect(read('plugins/rate-limit/README.md').length).toBeGreaterThan(200);
    expect(readdirSync(join(scratch, 'plugins/rate-limit/test')).some((f) => f.endsWith('.test.ts'))).toBe(true);
    expect(read('plugins/rate-limit/src/index.ts')).toMatch(/export default rateLimitPlugin;/);
  });

  it('registers it as a built-in layer of @fence/cli for the platforms it declares', () => {
    expect(read('packages/cli/src/plugins.ts')).toMatch(/linux: \[\n(?: {4}.*\n)*? {4}\(\) => import\('@fence\/plugin-rate-limit'\),\n {2}\],/);
    expect(read('plugins/rate-limit/src/index.ts')).toContain("platforms: ['linux']");
    const cli = JSON.parse(read('packages/cli/package.json'));
    expect(cli.dependencies['@fence/plugin-rate-limit']).toBe(JSON.parse(read('packages/core/package.json')).version);
    expect(Object.keys(cli.dependencies)).toEqual(Object.keys(cli.dependencies).sort());
    expect(JSON.parse(read('packages/cli/tsconfig.lib.json')).references).toContainEqual({ path: '../../plugins/rate-limit/tsconfig.lib.json' });
  });

  it('refuses a taken name and a bad one, changing nothing', () => {
    const before = COPIED.map(read);
    expect(generate('rate-limit').stderr).toMatch(/already holds a package/);
    expect(generate('Bad_Name').stderr).toMatch(/usage: node tools\/new-plugin\.mjs <name>/);
    expect(COPIED.map(read)).toEqual(before);
  });

  it('makes a third-party package with --out, leaving the repository alone', () => {
    const before = COPIED.map(read);
    const out = join(scratch, 'elsewhere');
    expect(generate('audit', '--out', out).status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))).toMatchObject({ name: 'fence-plugin-audit', main: './dist/index.js', peerDependencies: { '@fence/core': expect.any(String) } });
    expect(existsSync(join(out, 'tsconfig.json'))).toBe(true);
    expect(COPIED.map(read)).toEqual(before);
  });
});
