import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hostGit as gitAsUser, own, USERS, workspace, type Workspace, writeSettings } from '../src/fence.js';

// A git directory is not always called `.git`: a bare repository (`git init --bare`, cargo's
// `~/.cargo/git/db/*`, a mirror) or a `--separate-git-dir` is one by what it holds. A host git run
// there later runs its hooks and reads its config, so they are protected like a `.git`'s.
describe.each(USERS)('bare repositories (as %s)', (user) => {
  let ws: Workspace;
  let target: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(target, { recursive: true, force: true });
  });

  const hostGit = (cwd: string, ...args: string[]) => gitAsUser(ws, cwd, ...args);
  const setup = () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    return join(target, 'host-code-ran');
  };
  /** What a host git would run or read in `dir`: its hooks other than git's samples, and its config. */
  const planted = (dir: string) => ({
    hooks: existsSync(join(dir, 'hooks')) ? readdirSync(join(dir, 'hooks')).filter((n) => !n.endsWith('.sample')) : [],
    config: existsSync(join(dir, 'config')) ? readFileSync(join(dir, 'config'), 'utf8') : undefined,
  });

  it('protects a bare repository that existed at start: no hook, no config change, not after removing its HEAD, not moved away', async () => {
    const marker = setup();
    mkdirSync(join(ws.dir, 'deps'));
    own(ws, join(ws.dir, 'deps'));
    hostGit(join(ws.dir, 'deps'), 'init', '-q', '--bare', 'x.git');
    const bare = join(ws.dir, 'deps/x.git');
    const before = planted(bare);
    const fsmonitor = `[core]\\n\\tfsmonitor = \\"touch ${marker}; false\\"\\n`;
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > deps/x.git/hooks/post-update; echo "hook=$?"`,
      `printf "${fsmonitor}" >> deps/x.git/config; echo "config=$?"`,
      'truncate -s 0 deps/x.git/config; echo "truncate=$?"',
      'mv deps/x.git deps/y.git; echo "move=$?"',
      // Without its HEAD git takes it for no repository, but the guard still does.
      `rm deps/x.git/HEAD; printf "${fsmonitor}" >> deps/x.git/config; echo "headless=$?"`,
      'mkdir deps/x.git/hooks2 && mv deps/x.git/hooks2 deps/x.git/hooks.new && echo x > deps/x.git/hooks/pre-receive; echo "receive=$?"',
    ].join('; ')]);
    for (const step of ['hook', 'config', 'truncate', 'move', 'headless', 'receive']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(r.stderr).toMatch(/fence: refused to create \/.*\/deps\/x\.git\/hooks\/post-update: inside a git directory's hooks or info/);
    expect(planted(bare)).toEqual(before);
    expect(existsSync(marker)).toBe(false);
  });

  it('gives a bare repository made during the run no hook, and moves its config away when the run ends', async () => {
    const marker = setup();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'git init -q --bare new.git && echo "init=$?"',
      `git -C new.git config core.fsmonitor "touch ${marker}; false" && echo "config=$?"`,
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > new.git/hooks/post-update; echo "hook=$?"`,
      'git clone -q --bare new.git clone.git 2>/dev/null && echo "clone=$?"',
    ].join('; ')]);
    expect(r.stdout).toMatch(/^init=0$/m);
    expect(r.stdout).toMatch(/^config=0$/m);
    expect(r.stdout).toMatch(/^hook=[1-9]/m);
    expect(r.stdout).toMatch(/^clone=0$/m);
    expect(r.stderr).toMatch(/created \/.*\/new\.git\/config, which programs outside the sandbox act on: moved to \/.*\/new\.git\/config\.fence-quarantined/);
    for (const dir of ['new.git', 'clone.git']) expect(planted(join(ws.dir, dir)), dir).toEqual({ hooks: [], config: undefined });
    expect(hostGit(join(ws.dir, 'new.git'), 'rev-parse', '--git-dir')).toBe('.\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('moves the config of a repository made during the run away also from a directory the command made unwritable or unreadable', async () => {
    const marker = setup();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      `git init -q n && git -C n config core.fsmonitor "touch ${marker}; false" && chmod 555 n/.git`,
      `git init -q --bare b.git && git -C b.git config core.fsmonitor "touch ${marker}; false" && chmod 555 b.git`,
      // Unreadable, so a search cannot see it (nested twice).
      `mkdir -p u/v && git init -q u/v/m && git -C u/v/m config core.fsmonitor "touch ${marker}; false" && chmod 000 u/v u && echo ok`,
    ].join(' && ')]);
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).not.toMatch(/cannot read/);
    for (const [dir, mode] of [['u', 0], ['u/v', 0]] as const) expect(statSync(join(ws.dir, dir)).mode & 0o777, dir).toBe(mode);
    chmodSync(join(ws.dir, 'u'), 0o755);
    chmodSync(join(ws.dir, 'u/v'), 0o755);
    expect(planted(join(ws.dir, 'u/v/m/.git')).config).toBeUndefined();
    for (const dir of ['n/.git', 'b.git']) {
      expect(r.stderr).toMatch(new RegExp(`created /.*/${dir.replace('.', '\\.')}/config, which programs outside the sandbox act on: moved to`));
      expect(planted(join(ws.dir, dir)).config, dir).toBeUndefined();
      expect(statSync(join(ws.dir, dir)).mode & 0o777, dir).toBe(0o555);
    }
    hostGit(join(ws.dir, 'n'), 'status');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses to make a git directory of one where hooks, a config or a commondir were planted first', async () => {
    const marker = setup();
    // An existing directory: a config in it was not written by a git init of this run.
    mkdirSync(join(ws.dir, 'old'));
    own(ws, join(ws.dir, 'old'));
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      `mkdir -p b/hooks && printf '#!/bin/sh\\ntouch ${marker}\\n' > b/hooks/post-update && chmod +x b/hooks/post-update && git init -q --bare b; echo "hooksfirst=$?"`,
      `printf '[core]\\n\\tfsmonitor = "touch ${marker}"\\n' > old/config && mkdir old/objects && mkdir old/refs; echo "configfirst=$?"`,
      'mkdir c && echo .. > c/commondir && echo "ref: refs/heads/main" > c/HEAD; echo "commondir=$?"',
      'mkdir e && echo "ref: refs/heads/main" > e/HEAD && echo .. > e/commondir; echo "commondirlast=$?"',
      'mkdir d && mkdir d/objects && mkdir d/refs && mv b/hooks d/hooks; echo "movedin=$?"',
    ].join('; ')]);
    for (const step of ['hooksfirst', 'configfirst', 'commondir', 'commondirlast', 'movedin']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(r.stderr).toMatch(/refused to create \/.*\/b\/(objects|refs): a git directory whose hooks were made before it was one/);
    expect(r.stderr).toMatch(/refused to create \/.*\/old\/refs: git configuration of a directory that existed before this run/);
    expect(existsSync(join(ws.dir, 'old/refs'))).toBe(false);
    expect(existsSync(join(ws.dir, 'c/HEAD'))).toBe(false);
    expect(existsSync(join(ws.dir, 'e/commondir'))).toBe(false);
    expect(existsSync(join(ws.dir, 'd/hooks'))).toBe(false);
  });

  it('keeps a bare repository that existed at start read-only without the creation guard (no native helper)', async () => {
    const marker = setup();
    writeSettings(ws, { filesystem: { allowWrite: ['.'] } });
    hostGit(ws.dir, 'init', '-q', '--bare', 'x.git');
    const before = planted(join(ws.dir, 'x.git'));
    // FENCE_LAUNCH_PATH='' : as on a machine where the native helper could not be built (degraded.test.ts).
    const r = await fence(ws, ['-c', [
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > x.git/hooks/post-update; echo "hook=$?"`,
      'echo "[alias]" >> x.git/config; echo "config=$?"',
    ].join('; ')], { env: { FENCE_LAUNCH_PATH: '' } });
    expect(r.stderr).toMatch(/no native helper/);
    for (const step of ['hook', 'config']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(planted(join(ws.dir, 'x.git'))).toEqual(before);
  });
});
