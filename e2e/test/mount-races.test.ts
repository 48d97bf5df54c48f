import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, USERS, userArgv, workspace, writeSettings, type Workspace } from '../src/fence.js';

/** Runs of `fence` per race: the unfixed start-up lost 8 of 15. */
const RUNS = 16;

// SPEC §4.1 "What the mounts must hold": a path swapped for a symlink, before or while Fence
// starts, never gets a directory outside allowWrite mounted or written. Judged on the host.
describe.each(USERS)('symlinks planted or swapped around the mounts (as %s)', (user) => {
  let ws: Workspace;
  let outside: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(outside, { recursive: true, force: true });
  });

  /** A directory outside /tmp and outside allowWrite that the user could write on the host. */
  const setup = () => {
    ws = workspace(user);
    outside = mkdtempSync('/var/tmp/fence-e2e-outside-');
    chmodSync(outside, 0o777);
  };

  /** A directory of the workspace, owned by its user. */
  const dir = (name: string): string => {
    const path = join(ws.dir, name);
    mkdirSync(path);
    own(ws, path);
    return path;
  };

  /**
   * Swaps `name` (a directory) for a symlink to the outside directory and back every millisecond
   * or so (leaving a core to Fence), as the workspace's user, until stopped; resolves the number
   * of swaps.
   */
  const swapper = (name: string) => {
    const script = `
import os, signal, sys, time
n = 0
signal.signal(signal.SIGTERM, lambda *a: (print(n), sys.exit(0)))
while True:
    os.rename(${JSON.stringify(name)}, ${JSON.stringify(`${name}.real`)})
    os.symlink(${JSON.stringify(outside)}, ${JSON.stringify(name)})
    time.sleep(0.0005)
    os.unlink(${JSON.stringify(name)})
    os.rename(${JSON.stringify(`${name}.real`)}, ${JSON.stringify(name)})
    time.sleep(0.0005)
    n += 1
`;
    const [cmd, ...args] = userArgv(user, ['/usr/bin/python3', '-c', script]);
    const child = spawn(cmd!, args, { cwd: ws.dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = new Promise<number>((r) => child.on('close', () => r(Number(out.trim()))));
    return { stop: () => (child.kill('SIGTERM'), done) };
  };

  it('leaves the command no descriptor of a host path (an O_PATH directory would reach past the mounts)', async () => {
    setup();
    dir('proj');
    writeSettings(ws, { filesystem: { allowWrite: ['proj'] } });
    // With the native helper, and without it (FENCE_LAUNCH_PATH=''), where bwrap starts the command.
    for (const env of [{}, { FENCE_LAUNCH_PATH: '' }] as Record<string, string>[]) {
      const r = await fence(ws, ['-c', 'for f in /proc/self/fd/*; do readlink "$f"; done'], { env });
      const paths = r.stdout.split('\n').filter((l) => l.startsWith('/') && !/^\/(dev|proc)\//.test(l));
      expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3); // stdio at least: the listing worked
      expect(paths).toEqual([]);
    }
  });

  it('refuses a symlinked allowWrite entry, naming both paths, and writes nothing', async () => {
    setup();
    symlinkSync(outside, join(ws.dir, 'out'));
    writeSettings(ws, { filesystem: { allowWrite: ['out'] } });
    const r = await fence(ws, ['-c', 'echo pwned > out/x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`fence: filesystem.allowWrite[0]: "out" is a symlink to ${outside}; name the real path "${outside}" in allowWrite to allow it\n`);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(ws.dir).sort()).toEqual(['fence.json', 'out']);
  });

  it('never lets a link planted by one run widen the next', async () => {
    setup();
    writeSettings(ws, { extends: 'workspace-write' });
    const plant = await fence(ws, ['-c', `ln -s ${outside} out && echo planted`]);
    expect(plant.stdout).toBe('planted\n');
    writeSettings(ws, { filesystem: { allowWrite: ['.', 'out'] } });
    const r = await fence(ws, ['-c', 'echo pwned > out/x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`"out" is a symlink to ${outside}`);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('never mounts or writes the outside directory while an allowWrite directory is swapped for a symlink', async () => {
    setup();
    dir('proj');
    writeSettings(ws, { filesystem: { allowWrite: ['proj'] } });
    const swaps = swapper('proj');
    const outcomes: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await fence(ws, ['-c', 'echo pwned > proj/x && echo wrote']);
      outcomes.push(r.stdout === 'wrote\n' ? 'ran' : (/fence: (.{0,40})|bwrap: (.{0,40})/.exec(r.stderr)?.[0] ?? `exit ${r.status}`));
      expect(readdirSync(outside), `run ${i}: ${r.stderr}`).toEqual([]);
    }
    expect(await swaps.stop()).toBeGreaterThan(RUNS);
    console.log(`as ${user}: ${outcomes.join(' | ')}`);
  });

  it('never creates a placeholder outside when the directory holding it is swapped for a symlink', async () => {
    setup();
    dir('.git');
    writeSettings(ws, { extends: 'workspace-write' });
    const swaps = swapper('.git');
    for (let i = 0; i < RUNS; i++) {
      const r = await fence(ws, ['-c', 'true']);
      expect(readdirSync(outside), `run ${i}: ${r.stderr}`).toEqual([]);
    }
    expect(await swaps.stop()).toBeGreaterThan(RUNS);
  });

  it('refuses to create a placeholder through a planted symlink, and writes nothing outside', async () => {
    setup();
    symlinkSync(outside, join(ws.dir, '.git'));
    writeSettings(ws, { extends: 'workspace-write' });
    const r = await fence(ws, ['-c', 'echo ran']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^fence: cannot mount ${ws.dir}/\\.git safely: it is a symlink; nothing was run`));
    expect(readdirSync(outside)).toEqual([]);
  });
});
