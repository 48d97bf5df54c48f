import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walkTrees } from '../src/glob-expand.js';
import { emptyFinds, gitFinds, placeholderContent, protectedPathVisitor } from '../src/mandatory-paths.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tree(files: readonly string[]): void {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'fence-mandatory-')));
  for (const f of files) {
    // A name ending in '/' is a directory.
    mkdirSync(f.endsWith('/') ? join(root, f) : dirname(join(root, f)), { recursive: true });
    if (!f.endsWith('/')) writeFileSync(join(root, f), '');
  }
}

function find(allowGitConfig: boolean): string[] {
  const finds = emptyFinds();
  walkTrees([root], protectedPathVisitor(allowGitConfig, finds));
  return [...finds.found, ...gitFinds(finds, allowGitConfig)].map((p) => p.slice(root.length + 1)).sort();
}

describe('protectedPathVisitor', () => {
  it('protects the indirections of every git directory, and nothing git writes while committing', () => {
    tree([
      '.git/HEAD', '.git/config', '.git/commondir', '.git/config.worktree', '.git/index', '.git/hooks/pre-commit', '.git/info/exclude',
      '.git/objects/ab/config', '.git/refs/heads/config', '.git/refs/heads/info/x', '.git/logs/HEAD',
      // A linked worktree's and a nested submodule's git directories.
      '.git/worktrees/w/HEAD', '.git/worktrees/w/commondir', '.git/worktrees/w/gitdir', '.git/worktrees/w/index',
      '.git/modules/a/b/HEAD', '.git/modules/a/b/config', '.git/modules/a/b/hooks/',
      'a/b/.git', 'src/.bashrc',
    ]);
    expect(find(false)).toEqual([
      '.git/commondir', '.git/config', '.git/config.worktree', '.git/hooks', '.git/info',
      '.git/modules/a/b/config', '.git/modules/a/b/hooks',
      '.git/worktrees/w/commondir', '.git/worktrees/w/gitdir',
      'a/b/.git', 'src/.bashrc',
    ]);
  });

  it('protects the hooks and config of a bare repository (HEAD, objects, refs), not of a directory that only has a HEAD', () => {
    tree([
      'deps/x.git/HEAD', 'deps/x.git/config', 'deps/x.git/hooks/post-update', 'deps/x.git/objects/', 'deps/x.git/refs/heads/',
      // git's linked-worktree form: HEAD and a commondir naming where the rest is.
      'sep/HEAD', 'sep/commondir',
      'notes/HEAD', 'notes/config', 'notes/hooks/',
    ]);
    expect(find(false)).toEqual(['deps/x.git/config', 'deps/x.git/hooks', 'sep/commondir']);
  });

  it('leaves config and config.worktree writable under allowGitConfig', () => {
    tree(['.git/HEAD', '.git/config', '.git/config.worktree', '.git/hooks/']);
    expect(find(true)).toEqual(['.git/hooks']);
  });

  it('gives a commondir placeholder the content git reads as "this directory"', () => {
    expect(placeholderContent('/p/.git/commondir')).toBe('.\n');
    expect(placeholderContent('/p/.git/config')).toBe('');
  });
});
