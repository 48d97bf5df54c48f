import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { literalBase, writablePaths } from '../src/writable-paths.js';

describe('literalBase', () => {
  it('keeps a literal path as it is', () => {
    expect(literalBase('/work/build')).toBe('/work/build');
  });

  it('reduces a glob to the directory before its first glob character', () => {
    expect(literalBase('/work/build/**')).toBe('/work/build');
    expect(literalBase('/work/**/.cache')).toBe('/work');
    expect(literalBase('/work/logs/*.log')).toBe('/work/logs');
    expect(literalBase('/work/out-?/x')).toBe('/work');
    expect(literalBase('/work/{a,b}')).toBe('/work');
  });

  it('reduces a glob at the top level to /', () => {
    expect(literalBase('/*')).toBe('/');
  });
});

describe('writablePaths', () => {
  const root = mkdtempSync(join(tmpdir(), 'fence-landlock-'));
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'file'), 'x');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stats each path and says whether it is a directory', async () => {
    const r = await writablePaths([join(root, 'dir'), join(root, 'file')]);
    expect(r.existing).toEqual([
      { path: join(root, 'dir'), isDirectory: true },
      { path: join(root, 'file'), isDirectory: false },
    ]);
    expect(r.skipped).toEqual([]);
  });

  it('skips paths that do not exist, since a Landlock rule needs an open file', async () => {
    const r = await writablePaths([join(root, 'missing'), join(root, 'file', 'below-a-file')]);
    expect(r.existing).toEqual([]);
    expect(r.skipped).toEqual([join(root, 'missing'), join(root, 'file', 'below-a-file')]);
  });

  it('turns globs into their base directory once', async () => {
    const r = await writablePaths([`${root}/dir/**`, `${root}/dir/*.txt`]);
    expect(r.existing).toEqual([{ path: join(root, 'dir'), isDirectory: true }]);
  });
});
