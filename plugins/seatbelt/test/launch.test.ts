import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel, type LaunchPlan } from '@fence/core';
import { DARWIN_PATHS, seatbeltPlugin } from '../src/index.js';
import { testPolicy } from './policy.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A plan whose runtime directory is reached through a symlink, as /var/folders is on macOS. */
function plan(): LaunchPlan {
  const dir = mkdtempSync(join(tmpdir(), 'fence-seatbelt-'));
  const link = `${dir}-link`;
  symlinkSync(dir, link);
  dirs.push(dir, link);
  return { policy: testPolicy(), wrappers: [], env: {}, fds: [], exec: { unexecutable: [] }, services: [], leases: [], cleanup: [], notes: [], warnings: [], hostTasks: [], runtimeDir: () => link, createdRuntimeDir: () => link };
}

describe('seatbeltPlugin', () => {
  it('wraps the command in sandbox-exec -p with the profile and a private TMPDIR, by its real path, at the SANDBOX stage', async () => {
    const kernel = new Kernel({ plugins: [seatbeltPlugin], options: { platform: 'darwin', debug: false, monitor: false, strict: false, ports: [8080] } });
    seatbeltPlugin.apply(kernel);
    const p = plan();
    await kernel.hooks.prepare.promise(p, new Map());
    expect(p.wrappers).toHaveLength(1);
    const [exe, flag, profile] = p.wrappers[0]!.argv;
    expect([exe, flag]).toEqual(['/usr/bin/sandbox-exec', '-p']);
    expect(profile).toMatch(/^\(version 1\)\n\(deny default \(with message "fence-[0-9a-f]{12}"\)\)/);
    const real = join(realpathSync(p.runtimeDir()), 'tmp');
    expect(profile).toContain(`(subpath "${real}")`);
    expect(profile).not.toContain(p.runtimeDir());
    expect(profile).toContain('(local ip "*:8080")');
    expect(p.env.TMPDIR).toBe(real);
    expect(existsSync(p.env.TMPDIR!)).toBe(true);
  });

  it('names macOS\'s paths for read isolation for the session, before any detection', () => {
    const kernel = new Kernel({ plugins: [seatbeltPlugin], options: { platform: 'darwin', debug: false, monitor: false, strict: false, ports: [] }, cacheDetection: false });
    expect(kernel.platformPaths).toBe(DARWIN_PATHS);
  });
});
