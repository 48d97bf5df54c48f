/**
 * docs/settings.md is generated from the schema; this fails when someone changed the schema or
 * the templates without regenerating it. The generator reads the built packages (dist): core, the
 * command plugin and the sandbox plugins (their platform paths and notes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('docs/settings.md', () => {
  it('is up to date with the settings schema and the templates', () => {
    expect(existsSync(path.join(root, 'packages/core/dist/index.js')), 'build first (core and the sandbox plugins): npm run build').toBe(true);
    const check = spawnSync(process.execPath, [path.join(root, 'tools/gen-docs.mjs'), '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
