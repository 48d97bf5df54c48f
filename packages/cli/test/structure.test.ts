import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInPlugins } from '../src/plugins.js';

const pluginsDir = join(import.meta.dirname, '../../../plugins');
const packages = readdirSync(pluginsDir).filter((d) => existsSync(join(pluginsDir, d, 'package.json')));

describe('the plugin packages', () => {
  it.each(packages)('%s has a README, tests and the @fence/plugin-* name', (dir) => {
    const pkg = JSON.parse(readFileSync(join(pluginsDir, dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe(`@fence/plugin-${dir}`);
    expect(readFileSync(join(pluginsDir, dir, 'README.md'), 'utf8').length).toBeGreaterThan(200);
    expect(readdirSync(join(pluginsDir, dir, 'test')).some((f) => f.endsWith('.test.ts'))).toBe(true);
  });

  // Imports every plugin package: seconds on a loaded machine.
  it('are each registered for every platform they declare', { timeout: 30_000 }, async () => {
    const registered = new Map<string, string[]>();
    for (const platform of ['linux', 'darwin'] as const) {
      for (const p of await builtInPlugins(platform)) registered.set(p.name, [...(registered.get(p.name) ?? []), platform]);
    }
    expect([...registered.keys()].sort()).toEqual([...packages].sort());
    for (const dir of packages) {
      const { default: plugin } = await import(`@fence/plugin-${dir}`);
      expect(registered.get(plugin.name)).toEqual(plugin.platforms);
    }
  });
});
