import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Policy } from '@fence/core';
import { findDeniedExecutables, searchDirs } from '../src/executables.js';
import { planMasks, runtimePrograms } from '../src/runtime-deny.js';

const command = (c: Partial<Policy['command']> = {}): Policy['command'] => ({
  deny: [], allow: [], useDefaults: false, runtimeExecPolicy: 'path', acceptSharedBinaryCannotRuntimeDeny: [], ...c,
});

describe('runtimePrograms', () => {
  it('takes the single-word rules (and the built-in ones with useDefaults), not the prefixes', () => {
    expect(runtimePrograms(command({ deny: ['/usr/bin/chroot', 'git push', 'dd'] })).programs).toEqual(['chroot', 'dd']);
    expect(runtimePrograms(command({ useDefaults: true })).programs).toContain('sudo');
    expect(runtimePrograms(command({ useDefaults: true })).programs).not.toContain('init');
  });

  it('leaves to the command line a program that an allow rule uses with arguments', () => {
    expect(runtimePrograms(command({ deny: ['sudo'], allow: ['sudo -n true'] }))).toEqual({ programs: [], allowedInPart: ['sudo'] });
  });
});

describe('findDeniedExecutables and planMasks', () => {
  let dir: string;
  const exe = (path: string) => (writeFileSync(path, '#!/bin/sh\n'), chmodSync(path, 0o755));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fence-exe-'));
    for (const d of ['bin', 'sbin', 'box']) mkdirSync(join(dir, d));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a program in every searched directory once, by its real path', () => {
    exe(join(dir, 'bin', 'sudo'));
    symlinkSync(join(dir, 'bin', 'sudo'), join(dir, 'sbin', 'sudo'));
    const found = findDeniedExecutables(['sudo', 'absent'], [join(dir, 'bin'), join(dir, 'sbin')]);
    expect(found).toEqual([{ file: join(dir, 'bin', 'sudo'), programs: ['sudo'], sharedWith: [] }]);
    expect(planMasks(found, command({ deny: ['sudo'] }), runtimePrograms(command({ deny: ['sudo'] })))).toMatchObject({ files: [join(dir, 'bin', 'sudo')], warnings: [] });
  });

  it('masks a multicall binary anyway, warning with the critical commands it takes along', () => {
    exe(join(dir, 'box', 'busybox'));
    for (const name of ['chroot', 'ls', 'sh', 'cat', 'vi']) symlinkSync(join(dir, 'box', 'busybox'), join(dir, 'bin', name));
    linkSync(join(dir, 'box', 'busybox'), join(dir, 'sbin', 'reboot'));
    const c = command({ deny: ['chroot'] });
    const found = findDeniedExecutables(['chroot'], [join(dir, 'bin'), join(dir, 'sbin')]);
    expect(found).toEqual([{ file: join(dir, 'box', 'busybox'), programs: ['chroot'], sharedWith: ['busybox', 'cat', 'ls', 'reboot', 'sh', 'vi'] }]);
    const masks = planMasks(found, c, runtimePrograms(c));
    expect(masks.files).toEqual([join(dir, 'box', 'busybox')]);
    expect(masks.warnings).toEqual([
      `chroot is ${join(dir, 'box', 'busybox')}, which also runs cat, ls, sh (and 3 other command(s)): those cannot run in the sandbox either; list chroot in command.acceptSharedBinaryCannotRuntimeDeny to check it on command lines only`,
    ]);
  });

  it('keeps a shared binary executable when acceptSharedBinaryCannotRuntimeDeny names the program', () => {
    exe(join(dir, 'box', 'busybox'));
    for (const name of ['chroot', 'ls']) symlinkSync(join(dir, 'box', 'busybox'), join(dir, 'bin', name));
    const c = command({ deny: ['chroot'], acceptSharedBinaryCannotRuntimeDeny: ['chroot'] });
    const masks = planMasks(findDeniedExecutables(['chroot'], [join(dir, 'bin')]), c, runtimePrograms(c));
    expect(masks).toMatchObject({ files: [], warnings: [] });
    expect(masks.notes[0]).toMatch(/stays executable: shared with busybox, ls/);
  });

  it('notes without a warning a shared file that no critical command runs (reboot → systemctl)', () => {
    exe(join(dir, 'bin', 'systemctl'));
    symlinkSync(join(dir, 'bin', 'systemctl'), join(dir, 'sbin', 'reboot'));
    const c = command({ deny: ['reboot'] });
    const masks = planMasks(findDeniedExecutables(['reboot'], [join(dir, 'bin'), join(dir, 'sbin')]), c, runtimePrograms(c));
    expect(masks).toMatchObject({ files: [join(dir, 'bin', 'systemctl')], warnings: [] });
    expect(masks.notes[0]).toMatch(/which also runs systemctl/);
  });

  it('searches PATH first, then the usual directories, each real directory once', () => {
    const dirs = searchDirs(`${join(dir, 'bin')}:relative:/usr/bin:/nonexistent`);
    expect(dirs[0]).toBe(join(dir, 'bin'));
    expect(dirs).toContain('/usr/bin');
    expect(new Set(dirs).size).toBe(dirs.length);
    expect(dirs).not.toContain('relative');
  });
});
