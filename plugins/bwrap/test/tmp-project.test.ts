import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tmpProjectRoot } from '../src/tmp-project.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory directly under /tmp (tmpProjectRoot only looks there). */
const tmpDir = (): string => {
  const d = mkdtempSync('/tmp/fence-tmp-project-');
  made.push(d);
  return d;
};

describe('tmpProjectRoot', () => {
  it('finds the outermost repository between /tmp and the working directory', () => {
    const d = tmpDir();
    mkdirSync(`${d}/repo/.git`, { recursive: true });
    mkdirSync(`${d}/repo/mod/sub`, { recursive: true });
    writeFileSync(`${d}/repo/mod/.git`, 'gitdir: ../.git/modules/mod\n');
    expect(tmpProjectRoot(`${d}/repo/mod/sub`)).toBe(`${d}/repo`);
  });

  it('gives nothing outside /tmp, for the repository root itself, or without a repository', () => {
    const d = tmpDir();
    mkdirSync(`${d}/plain/sub`, { recursive: true });
    mkdirSync(`${d}/.git`);
    expect(tmpProjectRoot('/work/repo/sub')).toBeUndefined();
    expect(tmpProjectRoot(d)).toBeUndefined();
    expect(tmpProjectRoot('/tmp')).toBeUndefined();
    rmSync(`${d}/.git`, { recursive: true });
    expect(tmpProjectRoot(`${d}/plain/sub`)).toBeUndefined();
  });
});
