import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilesystemSchema, resolveFilesystem } from '@fence/core';
import { writablePaths } from '../src/writable-paths.js';

/** allowWrite entries as core's model resolves them. */
const rules = (allowWrite: string[]) => resolveFilesystem(FilesystemSchema.parse({ allowWrite }), '/', '/');

describe('writablePaths', () => {
  const root = mkdtempSync(join(tmpdir(), 'fence-landlock-'));
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'file'), 'x');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stats each path and says whether it is a directory', async () => {
    const r = await writablePaths(rules([join(root, 'dir'), join(root, 'file')]).allowWrite);
    expect(r.existing).toEqual([
      { path: join(root, 'dir'), isDirectory: true },
      { path: join(root, 'file'), isDirectory: false },
    ]);
    expect(r.skipped).toEqual([]);
  });

  it('skips paths that do not exist, since a Landlock rule needs an open file', async () => {
    const r = await writablePaths(rules([join(root, 'missing'), join(root, 'file', 'below-a-file')]).allowWrite);
    expect(r.existing).toEqual([]);
    expect(r.skipped).toEqual([join(root, 'missing'), join(root, 'file', 'below-a-file')]);
  });

  it('turns globs into their base directory once', async () => {
    const r = await writablePaths(rules([`${root}/dir/**`, `${root}/dir/*.txt`]).allowWrite);
    expect(r.existing).toEqual([{ path: join(root, 'dir'), isDirectory: true }]);
  });
});
