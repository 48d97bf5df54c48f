import { lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeEntry, entryName, type Entry } from '../../src/plan-cache/entry.js';
import { pathInputs, RACY_NS, type Input } from '../../src/plan-cache/inputs.js';
import { recordPaths } from '../../src/plan-cache/recorder.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'fence-plan-inputs-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A build time well after every file the tests make (so nothing is racy). */
const later = BigInt(Date.now()) * 1_000_000n + RACY_NS + 1_000_000_000n;
const byPath = (inputs: Input[] | string) => {
  if (typeof inputs === 'string') throw new Error(inputs);
  return new Map(inputs.map((i) => [i.path, i]));
};

describe('recordPaths', () => {
  it('records each path node:fs is asked about, with its strongest use, and restores node:fs', async () => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const { lstatSync: before } = await import('node:fs');
    // The work's own errors reach the caller, and node:fs is restored then too.
    await expect(recordPaths(async () => lstatSync(join(dir, 'missing')))).rejects.toThrow(/ENOENT/);
    expect((await import('node:fs')).lstatSync).toBe(before);
    const ok = await recordPaths(async () => {
      statSync(file);
      readFileSync(file);
      return 1;
    });
    expect(ok.result).toBe(1);
    expect([...ok.touched]).toEqual([[file, 'read']]);
    expect((await import('node:fs')).lstatSync).toBe(before);
  });
});

describe('pathInputs', () => {
  it('records the directories on the way by identity, the path itself whole, and a missing name with its errno', () => {
    const file = join(dir, 'a/b/f');
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    writeFileSync(file, 'x');
    const inputs = byPath(pathInputs(new Map([[file, 'read'], [join(dir, 'a/none/x'), 'follow']]), later, ['/nonexistent']));
    expect(inputs.get(join(dir, 'a'))?.type).toBe('entry');
    expect(inputs.get(file)).toMatchObject({ type: 'full', st: { size: 1n } });
    expect(inputs.get(join(dir, 'a/none'))).toEqual({ type: 'absent', path: join(dir, 'a/none'), errno: 2 });
    expect(inputs.has(join(dir, 'a/none/x'))).toBe(false);
  });

  it('follows a symlink to its target, recording the link by identity', () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real/f'), 'x');
    symlinkSync('real', join(dir, 'link'));
    const inputs = byPath(pathInputs(new Map([[join(dir, 'link/f'), 'follow']]), later, ['/nonexistent']));
    expect(inputs.get(join(dir, 'link'))?.type).toBe('entry');
    expect(inputs.get(join(dir, 'real/f'))?.type).toBe('full');
  });

  it('keeps kernel files by content, leaves out its own descriptors and the derived caches', () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    writeFileSync(join(cache, 'walk.json'), '{}');
    const inputs = byPath(
      pathInputs(new Map([['/proc/sys/kernel/random/boot_id', 'read'], ['/proc/self/fd/3', 'nofollow'], [join(cache, 'walk.json'), 'read'], [cache, 'follow']]), later, [cache]),
    );
    expect(inputs.get('/proc/sys/kernel/random/boot_id')).toMatchObject({ type: 'content' });
    expect([...inputs.keys()].some((p) => p.startsWith('/proc/self'))).toBe(false);
    expect(inputs.has(join(cache, 'walk.json'))).toBe(false);
    expect(inputs.get(cache)?.type).toBe('entry');
  });

  it('refuses a plan whose input changed less than 2 s before it was built', () => {
    writeFileSync(join(dir, 'new'), 'x');
    expect(pathInputs(new Map([[join(dir, 'new'), 'read']]), BigInt(Date.now()) * 1_000_000n, ['/nonexistent'])).toBe(`${join(dir, 'new')} changed less than 2 s ago`);
  });
});

describe('the entry', () => {
  const entry: Entry = {
    uid: 1,
    gid: 2,
    cwd: '/w',
    flags: ['-t', 'code'],
    expires: 3,
    env: new Map([['A', 'b']]),
    dropped: ['_'],
    commandEnv: new Map([['A', 'b']]),
    refer: ['sudo'],
    referPrefixes: [],
    say: ['fence: warning: x'],
    chdir: '/w',
    argv: ['bwrap', '--'],
    fds: [{ kind: 'data', bytes: new Uint8Array([0, 1, 0]) }, { kind: 'report' }, { kind: 'bind', path: '/s/h.sock', type: 'socket', dev: 5, ino: 6 }],
    leases: [{ path: '/s/l.sock', kind: 'socket', dev: 5, ino: 7 }],
    inputs: [{ type: 'absent', path: '/x', errno: 2 }],
  };

  it('is NUL-separated words, with data as a length and raw bytes', () => {
    const text = encodeEntry(entry);
    expect(text.subarray(0, 22).toString()).toBe('FENCE-PLAN\x002\x00user\x001\x002\x00');
    expect(text.includes(Buffer.from('fd\x00data\x003\x00\x00\x01\x00\x00fd\x00report\x00'))).toBe(true);
    // A shared service's socket, and the lease on it the fast path takes before it starts anything.
    expect(text.includes(Buffer.from('fd\x00bind\x00/s/h.sock\x00socket\x005\x006\x00lease\x00/s/l.sock\x005\x007\x00'))).toBe(true);
    expect(text.toString('latin1').endsWith('absent\x00/x\x002\x00end\x00')).toBe(true);
  });

  it('refuses a word holding a NUL', () => {
    expect(() => encodeEntry({ ...entry, cwd: '/a\0b' })).toThrow(/a NUL/);
  });

  it('is named by FNV-1a of the working directory and the arguments', () => {
    expect(entryName('/w', [])).toMatch(/^[0-9a-f]{16}\.plan$/);
    expect(entryName('/w', ['-t', 'code'])).not.toBe(entryName('/w', ['-tcode']));
  });
});
