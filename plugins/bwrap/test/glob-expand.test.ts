import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { outermost, walkTrees } from '../src/glob-expand.js';
import { removeScratch, scratch } from './sandbox-helper.js';

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
