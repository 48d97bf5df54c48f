import { closeSync, fstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFenceError } from '@fence/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BindFds, createExact, MAX_BIND_FDS, openExact } from '../src/bind-fds.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A real directory holding `dir/`, `file`, `outside/`, `link -> outside` and `file-link -> file`. */
function tree(): string {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'fence-bind-fds-')));
  mkdirSync(join(root, 'dir'));
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'file'), '');
  symlinkSync(join(root, 'outside'), join(root, 'link'));
  symlinkSync(join(root, 'file'), join(root, 'file-link'));
  return root;
}

const failure = (f: () => unknown): { code: string; message: string } => {
  try {
    f();
  } catch (e) {
    if (isFenceError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a FenceError');
};

describe('openExact', () => {
  it('opens a directory or a file of the expected kind', () => {
    tree();
    for (const [path, kind] of [[join(root, 'dir'), 'dir'], [join(root, 'file'), 'file']] as const) {
      const fd = openExact(path, kind);
      expect(fstatSync(fd).isDirectory()).toBe(kind === 'dir');
      closeSync(fd);
    }
  });

  it('refuses a symlink in the last component, to a directory or a file', () => {
    tree();
    expect(failure(() => openExact(join(root, 'link')))).toEqual({
      code: 'PATH_CHANGED',
      message: expect.stringMatching(new RegExp(`^cannot mount ${root}/link safely: it is a symlink; nothing was run`)),
    });
    expect(failure(() => openExact(join(root, 'file-link'), 'file')).message).toContain('it is a symlink');
  });

  it('refuses a path with a symlinked directory on the way, naming where it leads', () => {
    tree();
    mkdirSync(join(root, 'outside/sub'));
    expect(failure(() => openExact(join(root, 'link/sub'), 'dir')).message).toContain(`it leads to ${root}/outside/sub: a directory on the way is a symlink or was moved`);
  });

  it('refuses a kind other than the one gathered, and a missing path', () => {
    tree();
    expect(failure(() => openExact(join(root, 'file'), 'dir')).message).toContain('it is a file, not a dir');
    expect(failure(() => openExact(join(root, 'gone'))).message).toContain('it cannot be opened: ENOENT');
  });
});

describe('createExact', () => {
  it('creates an empty 0444 file and returns its identity; an existing name is left alone', () => {
    tree();
    const id = createExact(join(root, 'dir/.bashrc'));
    const fd = openExact(join(root, 'dir/.bashrc'), 'file');
    const s = fstatSync(fd);
    closeSync(fd);
    expect(id).toBe(`${s.dev}:${s.ino}:0`);
    expect([s.size, s.mode & 0o777]).toEqual([0, 0o444]);
    expect(createExact(join(root, 'dir/.bashrc'))).toBeUndefined();
  });

  it('writes the content it is given (a commondir placeholder) and counts it in the identity', () => {
    tree();
    const id = createExact(join(root, 'dir/commondir'), '.\n');
    expect(readFileSync(join(root, 'dir/commondir'), 'utf8')).toBe('.\n');
    expect(id).toMatch(/^\d+:\d+:2$/);
  });

  it('refuses to create through a symlinked directory and writes nothing there', () => {
    tree();
    expect(failure(() => createExact(join(root, 'link/.bashrc'))).code).toBe('PATH_CHANGED');
    expect(readdirSync(join(root, 'outside'))).toEqual([]);
  });
});

describe('BindFds', () => {
  it('opens each path once, closes them all, and refuses more than MAX_BIND_FDS', () => {
    tree();
    const fds = new BindFds();
    const opened = fds.open([{ path: join(root, 'dir') }, { path: join(root, 'file'), kind: 'file' }], new Map([[join(root, 'dir'), 'dir']]));
    expect([...opened.keys()]).toEqual([join(root, 'dir'), join(root, 'file')]);
    fds.close();
    expect(() => fstatSync(opened.get(join(root, 'dir'))!)).toThrow(/EBADF/);
    const many = Array.from({ length: MAX_BIND_FDS + 1 }, (_, i) => ({ path: `/x/${i}` }));
    expect(failure(() => new BindFds().open(many, new Map())).code).toBe('BIND_LIMIT');
  });
});
