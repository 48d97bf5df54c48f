import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('docs/security.md', () => {
  it('points every claim at a test file that exists', () => {
    const text = readFileSync(join(root, 'docs/security.md'), 'utf8');
    const files = [...text.matchAll(/`((?:e2e|plugins|native|packages)\/[^`*]+\.(?:ts|js))`/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(15);
    for (const f of files) expect(existsSync(join(root, f)), f).toBe(true);
  });
});
