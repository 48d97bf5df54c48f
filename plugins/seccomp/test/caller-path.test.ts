import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callerPath } from '../src/caller-path.js';

// The caller is this process: its root is `/`, so the expected paths are this machine's.
const me = { pid: process.pid, tid: process.pid };
const root = `/proc/${process.pid}/root`;

describe('callerPath', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const setup = () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'fence-caller-path-')));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin/g'), '');
    return dir;
  };

  it('follows an absolute symlink from the caller\'s root, a relative one from its directory', () => {
    const d = setup();
    symlinkSync(`${d}/bin/g`, join(d, 'abs'));
    symlinkSync('bin/../bin/g', join(d, 'rel'));
    symlinkSync(`${d}/bin`, join(d, 'dirlink'));
    expect(callerPath(me, `/proc/${me.tid}/cwd`, `${d}/abs`)).toBe(`${root}${d}/bin/g`);
    expect(callerPath(me, `/proc/${me.tid}/cwd`, `${d}/rel`)).toBe(`${root}${d}/bin/g`);
    expect(callerPath(me, `/proc/${me.tid}/cwd`, `${d}/dirlink/../bin/g`)).toBe(`${root}${d}/bin/g`);
    expect(callerPath(me, '/start', '/../..' + `${d}/bin/g`)).toBe(`${root}${d}/bin/g`);
  });

  it("names the caller's /proc/self and /dev/fd by its pid, leaving the magic links to the kernel", () => {
    expect(callerPath(me, '/start', '/proc/self/fd/3')).toBe(`/proc/${me.pid}/fd/3`);
    expect(callerPath(me, '/start', '/proc/thread-self/fd/3')).toBe(`/proc/${me.pid}/task/${me.tid}/fd/3`);
    expect(callerPath(me, '/start', '/dev/fd/3')).toBe(`/proc/${me.pid}/fd/3`);
  });

  it('throws what the lookup meets: nothing there, a loop', () => {
    const d = setup();
    symlinkSync('loop', join(d, 'loop'));
    expect(() => callerPath(me, '/start', `${d}/missing/g`)).toThrow(/ENOENT/);
    expect(() => callerPath(me, '/start', `${d}/loop`)).toThrow(/too many symlinks/);
  });
});
