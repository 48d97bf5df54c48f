import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { absolutePattern, globToRegExp, outermost, parsePattern, walkTrees } from '../src/glob-expand.js';
import { removeScratch, scratch } from './sandbox-helper.js';

describe('parsePattern', () => {
  it('treats dir/** as the directory itself', () => {
    expect(parsePattern('/w/build/**')).toEqual({ kind: 'path', pattern: '/w/build/**', path: '/w/build' });
  });

  it('walks from the static prefix of a glob', () => {
    const p = parsePattern('/w/**/.env');
    expect(p).toMatchObject({ kind: 'glob', root: '/w' });
  });

  it('refuses globs at the filesystem root and brace patterns, saying why', () => {
    expect(parsePattern('/**/id_rsa')).toMatchObject({ kind: 'unsupported', why: expect.stringContaining('every file') });
    expect(parsePattern('/w/{a,b}')).toMatchObject({ kind: 'unsupported', why: expect.stringContaining('brace') });
  });
});

describe('globToRegExp', () => {
  it('matches ** at any depth, including none, and * within one segment', () => {
    const re = globToRegExp('/w/**/*.key');
    expect(re.test('/w/a.key')).toBe(true);
    expect(re.test('/w/x/y/b.key')).toBe(true);
    expect(re.test('/w/x/b.keys')).toBe(false);
    expect(globToRegExp('/w/*.txt').test('/w/x/a.txt')).toBe(false);
    expect(globToRegExp('/w/file?.[ab]').test('/w/file1.b')).toBe(true);
  });
});

describe('absolutePattern', () => {
  it('resolves ~, ./ and relative paths', () => {
    expect(absolutePattern('~/.ssh', '/w', '/home/u')).toBe('/home/u/.ssh');
    expect(absolutePattern('./a/../b', '/w', '/home/u')).toBe('/w/b');
    expect(absolutePattern('**/.env', '/w', '/home/u')).toBe('/w/**/.env');
  });
});

describe('walkTrees', () => {
  it('reads each directory once and does not enter skipped ones', () => {
    const root = scratch();
    mkdirSync(`${root}/a/deep`, { recursive: true });
    mkdirSync(`${root}/skipme`);
    writeFileSync(`${root}/skipme/x`, '');
    writeFileSync(`${root}/a/deep/y`, '');
    const seen: string[] = [];
    walkTrees([root, `${root}/a`], (path, entry) => {
      seen.push(path.slice(root.length));
      return entry.name === 'skipme' ? 'skip' : undefined;
    });
    expect(seen.sort()).toEqual(['/a', '/a/deep', '/a/deep/y', '/skipme']);
    expect(outermost(['/w/a', '/w', '/v'])).toEqual(['/w', '/v']);
  });
});

afterAll(removeScratch);
