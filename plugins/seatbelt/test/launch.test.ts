import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel, type LaunchPlan } from '@fence/core';
import { seatbeltPlugin } from '../src/index.js';
import { testPolicy } from './policy.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function plan(): LaunchPlan {
  const dir = mkdtempSync(join(tmpdir(), 'fence-seatbelt-'));
  dirs.push(dir);
  return { policy: testPolicy(), wrappers: [], env: {}, fds: [], helper: { bridges: [], rlimits: [] }, services: [], cleanup: [], notes: [], warnings: [], runtimeDir: () => dir, createdRuntimeDir: () => dir };
}

describe('seatbeltPlugin', () => {
  it('wraps the command in sandbox-exec -p with the profile and a private TMPDIR at the SANDBOX stage', async () => {
    const kernel = new Kernel({ plugins: [seatbeltPlugin], options: { platform: 'darwin', debug: false, monitor: false, strict: false, ports: [8080] } });
    seatbeltPlugin.apply(kernel);
    const p = plan();
    await kernel.hooks.prepare.promise(p, new Map());
    expect(p.wrappers).toHaveLength(1);
    const [exe, flag, profile] = p.wrappers[0]!.argv;
    expect([exe, flag]).toEqual(['/usr/bin/sandbox-exec', '-p']);
    expect(profile).toMatch(/^\(version 1\)\n\(deny default \(with message "fence-[0-9a-f]{12}"\)\)/);
    expect(profile).toContain(`(subpath "${p.runtimeDir()}/tmp")`);
    expect(profile).toContain('(local ip "localhost:8080")');
    expect(p.env.TMPDIR).toBe(join(p.runtimeDir(), 'tmp'));
    expect(existsSync(p.env.TMPDIR!)).toBe(true);
  });
});
