import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { coreValue, hooksPathDirs } from '../src/git-hooks-path.js';

describe('coreValue', () => {
  it("reads git's syntax: case-insensitive names, quotes, escapes, comments, last one wins", () => {
    expect(coreValue('[core]\n\thooksPath = hp\n', 'hooksPath')).toBe('hp');
    expect(coreValue('[CORE]\n\tHOOKSPATH=".husky/_" # husky\n', 'hooksPath')).toBe('.husky/_');
    expect(coreValue('[core]\n\thooksPath = "a b" ; x\n', 'hooksPath')).toBe('a b');
    expect(coreValue('[core]\n\thooksPath = a\\\\b\n', 'hooksPath')).toBe('a\\b');
    expect(coreValue('[core] hooksPath = inline\n', 'hooksPath')).toBe('inline');
    expect(coreValue('[core]\n\thooksPath = one\n[core]\n\thooksPath = two\n', 'hooksPath')).toBe('two');
    expect(coreValue('[core]\n\thooksPath = lo\\\nng\n', 'hooksPath')).toBe('long');
  });

  it('ignores other sections, subsections and comments', () => {
    expect(coreValue('[alias]\n\thooksPath = no\n', 'hooksPath')).toBeUndefined();
    expect(coreValue('[core "x"]\n\thooksPath = no\n', 'hooksPath')).toBeUndefined();
    expect(coreValue('[core]\n# hooksPath = no\n;hooksPath = no\n', 'hooksPath')).toBeUndefined();
  });
});

describe('hooksPathDirs', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const setup = () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'fence-hookspath-')));
    mkdirSync(join(root, 'home'));
    mkdirSync(join(root, 'repo/.git'), { recursive: true });
    mkdirSync(join(root, 'bare.git'));
    return { home: join(root, 'home'), git: join(root, 'repo/.git'), bare: join(root, 'bare.git') };
  };

  it("resolves a relative path from the working tree (a bare repository's git directory), ~/ from $HOME", () => {
    const { home, git, bare } = setup();
    writeFileSync(`${git}/config`, '[core]\n\thooksPath = .husky/_\n');
    writeFileSync(`${bare}/config`, '[core]\n\tbare = true\n\thooksPath = ~/hooks\n');
    expect(hooksPathDirs([git, bare], home, {})).toEqual([join(root, 'repo/.husky/_'), join(home, 'hooks')]);
  });

  it("takes the user's config (XDG too) when the repository sets none, the repository's over it", () => {
    const { home, git } = setup();
    mkdirSync(join(root, 'xdg/git'), { recursive: true });
    writeFileSync(join(root, 'xdg/git/config'), '[core]\n\thooksPath = xdg\n');
    expect(hooksPathDirs([git], home, { XDG_CONFIG_HOME: join(root, 'xdg') })).toEqual([join(root, 'repo/xdg')]);
    writeFileSync(join(home, '.gitconfig'), '[core]\n\thooksPath = /abs/hooks\n');
    expect(hooksPathDirs([git], home, { XDG_CONFIG_HOME: join(root, 'xdg') })).toEqual(['/abs/hooks']);
    writeFileSync(`${git}/config`, '[core]\n\thooksPath = mine\n');
    expect(hooksPathDirs([git], home, {})).toEqual([join(root, 'repo/mine')]);
  });
});
