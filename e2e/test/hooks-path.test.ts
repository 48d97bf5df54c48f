import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, userArgv, USERS, workspace, type Workspace } from '../src/fence.js';

// Hooks kept in the working tree through core.hooksPath (husky's `.husky/_`): a hook the command
// writes there would run at the next host `git commit`.
describe.each(USERS)('core.hooksPath (as %s)', (user) => {
  let ws: Workspace;
  let target: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(target, { recursive: true, force: true });
  });

  const hostGit = (cwd: string, ...args: string[]) => {
    const [cmd, ...rest] = userArgv(user, ['git', ...args]);
    const r = spawnSync(cmd!, rest, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: ws.home } });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** A repository whose hooks live in `hooksPath` (set in the repository's config, or the user's with `global`). */
  const repo = (hooksPath: string, global = false) => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    hostGit(ws.dir, 'init', '-q', '.');
    hostGit(ws.dir, 'config', 'user.email', 'agent@example.com');
    hostGit(ws.dir, 'config', 'user.name', 'agent');
    if (global) {
      const file = join(ws.home, '.gitconfig');
      writeFileSync(file, `[Core]\n\tHooksPath = "${hooksPath}" ; husky\n`);
      own(ws, file);
    } else hostGit(ws.dir, 'config', 'core.hooksPath', hooksPath);
    return join(target, 'host-hook-ran');
  };

  /** A host `git commit` after the run: whether it ran a hook the command planted. */
  const hostCommit = (marker: string) => {
    const f = join(ws.dir, 'after.txt');
    writeFileSync(f, 'after\n');
    own(ws, f);
    hostGit(ws.dir, 'add', 'after.txt');
    hostGit(ws.dir, 'commit', '-qm', 'after');
    return existsSync(marker);
  };

  const plant = (dir: string, marker: string) => `printf '#!/bin/sh\\ntouch ${marker}\\n' > ${dir}/pre-commit; echo "plant=$?"; chmod +x ${dir}/pre-commit`;

  it('keeps an existing hooks directory read-only: no new hook, no changed hook, not moved away', async () => {
    const marker = repo('hp');
    mkdirSync(join(ws.dir, 'hp'));
    writeFileSync(join(ws.dir, 'hp/commit-msg'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    own(ws, join(ws.dir, 'hp'));
    own(ws, join(ws.dir, 'hp/commit-msg'));
    const attack = [
      plant('hp', marker),
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > hp/commit-msg; echo "modify=$?"`,
      'mv hp hp2; echo "mv=$?"',
      `mkdir -p hp2 && ${plant('hp2', marker)} && mv hp2/pre-commit hp/; echo "rename=$?"`,
    ].join('; ');
    const r = await fence(ws, ['-t', 'workspace-write', '-c', attack]);
    for (const step of ['plant', 'modify', 'mv', 'rename']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(existsSync(join(ws.dir, 'hp/pre-commit'))).toBe(false);
    expect(readFileSync(join(ws.dir, 'hp/commit-msg'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect(hostCommit(marker)).toBe(false);
  });

  it('keeps a hooks directory that is a symlink: its target read-only, the link put back when the run ends', async () => {
    const marker = repo('hp');
    mkdirSync(join(ws.dir, 'real'));
    own(ws, join(ws.dir, 'real'));
    symlinkSync('real', join(ws.dir, 'hp'));
    spawnSync('chown', ['-h', user === 'nobody' ? '65534:65534' : '0:0', join(ws.dir, 'hp')]);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `${plant('hp', marker)}; rm hp && mkdir hp && ${plant('hp', marker)}`]);
    expect(r.stdout).toMatch(/^plant=[1-9]/m);
    expect(existsSync(join(ws.dir, 'real/pre-commit'))).toBe(false);
    expect(readlinkSync(join(ws.dir, 'hp'))).toBe('real');
    expect(hostCommit(marker)).toBe(false);
  });

  it('refuses to make a missing hooks directory', async () => {
    const marker = repo('hp');
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `mkdir hp; echo "mkdir=$?"; ${plant('hp', marker)}`]);
    expect(r.stdout).toMatch(/^mkdir=[1-9]/m);
    expect(r.stdout).toMatch(/^plant=[1-9]/m);
    expect(existsSync(join(ws.dir, 'hp'))).toBe(false);
    expect(hostCommit(marker)).toBe(false);
  });

  it("refuses husky's .husky/_ set in the user's ~/.gitconfig, its parent missing too", async () => {
    const marker = repo('.husky/_', true);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `mkdir -p .husky/_; echo "mkdir=$?"; ${plant('.husky/_', marker)}`]);
    expect(r.stdout).toMatch(/^mkdir=[1-9]/m);
    expect(r.stdout).toMatch(/^plant=[1-9]/m);
    expect(existsSync(join(ws.dir, '.husky/_/pre-commit'))).toBe(false);
    expect(hostCommit(marker)).toBe(false);
  });

  it('lets git add and git commit work inside, running the existing hooks', async () => {
    repo('hp');
    mkdirSync(join(ws.dir, 'hp'));
    writeFileSync(join(ws.dir, 'hp/commit-msg'), '#!/bin/sh\necho hook-ran\n', { mode: 0o755 });
    own(ws, join(ws.dir, 'hp'));
    own(ws, join(ws.dir, 'hp/commit-msg'));
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'echo hi > f && git add f && git commit -qm inside && git log --format=%s']);
    expect(r.status).toBe(0);
    // git gives a hook's output to its stderr.
    expect(r.stderr).toContain('hook-ran');
    expect(r.stdout).toBe('inside\n');
    expect(hostGit(ws.dir, 'log', '--format=%s')).toBe('inside\n');
  });
});
