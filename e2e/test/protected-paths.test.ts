import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hostGit as gitAsUser, own, USERS, workspace, type Workspace, writeSettings } from '../src/fence.js';

// Mandatory write protection (SPEC §4.1), judged by what a host program does after the run.
describe.each(USERS)('protected paths (as %s)', (user) => {
  let ws: Workspace;
  let target: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(target, { recursive: true, force: true });
  });

  const hostGit = (cwd: string, ...args: string[]) => gitAsUser(ws, cwd, ...args);

  /** A repository with a submodule-style git directory (`sub/.git` file → `.git/modules/sub`). */
  const repo = () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    hostGit(ws.dir, 'init', '-q', '.');
    hostGit(ws.dir, 'config', 'user.email', 'agent@example.com');
    hostGit(ws.dir, 'config', 'user.name', 'agent');
    mkdirSync(join(ws.dir, '.git/modules'));
    own(ws, join(ws.dir, '.git/modules'));
    hostGit(ws.dir, 'init', '-q', '--separate-git-dir', `${ws.dir}/.git/modules/sub`, 'sub');
    return join(target, 'host-code-ran');
  };

  it('keeps every git indirection read-only, so the host git runs nothing planted', async () => {
    const marker = repo();
    const config = `[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch ${marker}; false"\\n`;
    const attack = [
      `mkdir -p .cache/c/hooks && printf '${config}' > .cache/c/config`,
      // The attack: commondir moves config and hooks to a directory the command wrote.
      'echo $PWD/.cache/c > .git/commondir; echo "commondir=$?"',
      `printf '${config}' > .git/config.worktree; echo "worktree=$?"`,
      'echo "*.txt filter=x" > .git/info/attributes; echo "info=$?"',
      // Moved away (the guard does not stop that) it still cannot come back changed.
      'mv .git/info .git/info2; echo "*.txt filter=x" > .git/info2/attributes; mv .git/info2 .git/info; echo "mv-info=$?"',
      'mv .git .git2; echo "mv-git=$?"',
      // A submodule's own git directory and its pointer.
      `printf '${config}' >> .git/modules/sub/config; echo "subconfig=$?"`,
      'echo $PWD/.cache/c > .git/modules/sub/commondir; echo "subcommondir=$?"',
      'echo "gitdir: $PWD/.cache/c" > sub/.git; echo "gitfile=$?"',
    ].join('; ');
    const r = await fence(ws, ['-t', 'workspace-write', '-c', attack]);
    for (const step of ['commondir', 'worktree', 'info', 'mv-info', 'mv-git', 'subconfig', 'subcommondir', 'gitfile']) {
      expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    }
    hostGit(ws.dir, 'status');
    hostGit(join(ws.dir, 'sub'), 'status');
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(ws.dir, 'sub/.git'), 'utf8')).toMatch(/^gitdir: .*\.git\/modules\/sub/);
    expect(existsSync(join(ws.dir, '.git/info/attributes'))).toBe(false);
  });

  it('lets git add and git commit work inside, and leaves the git directory as it found it', async () => {
    repo();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'echo hi > f && git add f && git commit -qm inside && git log --format=%s']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('inside\n');
    expect(hostGit(ws.dir, 'log', '--format=%s')).toBe('inside\n');
    expect(existsSync(join(ws.dir, '.git/commondir'))).toBe(false);
  });

  it('puts back a protected name that is a symlink when the command replaced it', async () => {
    const marker = repo();
    const made = (path: string, content: string) => {
      writeFileSync(path, content);
      own(ws, path);
    };
    // ~/.bashrc -> dotfiles/bashrc (stow, home-manager), and .git/config as a link into the tree.
    mkdirSync(join(ws.home, 'dotfiles'));
    own(ws, join(ws.home, 'dotfiles'));
    made(join(ws.home, 'dotfiles/bashrc'), '# mine\n');
    symlinkSync('dotfiles/bashrc', join(ws.home, '.bashrc'));
    renameSync(join(ws.dir, '.git/config'), join(ws.dir, 'repo-config'));
    symlinkSync('../repo-config', join(ws.dir, '.git/config'));
    for (const l of [join(ws.home, '.bashrc'), join(ws.dir, '.git/config')]) if (user === 'nobody') spawnSync('chown', ['-h', '65534:65534', l]);
    writeSettings(ws, { filesystem: { allowWrite: ['.', '~'] } });
    const config = `[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch ${marker}; false"\\n`;
    const r = await fence(ws, ['-c', [
      'echo evil >> ~/.bashrc; echo "append=$?"',
      'rm ~/.bashrc && echo evil > ~/.bashrc; echo "replace=$?"',
      `rm .git/config && printf '${config}' > .git/config; echo "gitconfig=$?"`,
    ].join('; ')]);
    expect(r.stdout).toMatch(/^append=[1-9]/m);
    // The link can be removed (a mount cannot hold a name that is a symlink), but nothing can be
    // created in its place (the creation guard); the link is put back at the end.
    expect(r.stdout).toMatch(/^replace=[1-9]/m);
    expect(r.stdout).toMatch(/^gitconfig=[1-9]/m);
    expect(r.stderr).toMatch(/the command replaced the protected symlink .*\/home\/\.bashrc: restored it$/m);
    expect(readlinkSync(join(ws.home, '.bashrc'))).toBe('dotfiles/bashrc');
    expect(readFileSync(join(ws.home, '.bashrc'), 'utf8')).toBe('# mine\n');
    expect(existsSync(join(ws.home, '.bashrc.fence-replaced'))).toBe(false);
    expect(lstatSync(join(ws.dir, '.git/config')).isSymbolicLink()).toBe(true);
    hostGit(ws.dir, 'status');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses protected names where there were none at start, and moves away a new repository\'s config at the end', async () => {
    const marker = repo();
    writeSettings(ws, { filesystem: { allowWrite: ['.'] } });
    const config = `[core]\\n\\tfsmonitor = "touch ${marker}; false"\\n`;
    const r = await fence(ws, ['-c', [
      'mkdir sub2; echo evil > sub2/.bashrc; echo "bashrc=$?"',
      'mkdir -p newdir/.vscode; echo "vscode=$?"; mkdir -p newdir && echo {} > newdir/.vscode/settings.json; echo "settings=$?"',
      `mkdir r && git -C r init -q; echo "init=$?"; printf '${config}' >> r/.git/config; echo "config=$?"`,
      'echo evil > r/.git/hooks/pre-commit; echo "hook=$?"',
      'echo . > r/.git/commondir; echo "commondir=$?"',
      'echo "*.txt filter=x" > r/.git/info/attributes; echo "info=$?"',
    ].join('; ')]);
    for (const step of ['bashrc', 'vscode', 'settings', 'hook', 'commondir', 'info']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    // git init and git clone keep working: a repository made in the run may have its config.
    expect(r.stdout).toMatch(/^init=0$/m);
    expect(r.stdout).toMatch(/^config=0$/m);
    expect(r.stderr).toContain(`fence: refused to create ${join(ws.dir, 'sub2/.bashrc')}: a protected name`);
    for (const p of ['sub2/.bashrc', 'newdir/.vscode', 'r/.git/hooks/pre-commit', 'r/.git/commondir', 'r/.git/info/attributes']) {
      expect(existsSync(join(ws.dir, p)), p).toBe(false);
      expect(existsSync(join(ws.dir, `${p}.fence-quarantined`)), p).toBe(false);
    }
    expect(existsSync(join(ws.dir, 'r/.git/config'))).toBe(false);
    expect(r.stderr).toContain(`the command created ${join(ws.dir, 'r/.git/config')}, which programs outside the sandbox act on: moved to`);
    hostGit(join(ws.dir, 'r'), 'status');
    expect(existsSync(marker)).toBe(false);
  });

  it('shows git nothing of Fence inside the run, and leaves nothing after it', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    hostGit(ws.dir, 'init', '-q', '.');
    writeFileSync(join(ws.dir, 'a.txt'), 'a\n');
    own(ws, join(ws.dir, 'a.txt'));
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'git add -A && git status --porcelain']);
    expect(r.stdout).toBe('A  a.txt\n');
    expect(hostGit(ws.dir, 'status', '--porcelain')).toBe('A  a.txt\n');
    expect(readFileSync(join(ws.dir, '.git/info/exclude'), 'utf8')).not.toContain('Fence');
  });

  it('catches a hook planted in a repository an earlier run made unreadable', async () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    const nested = join(ws.dir, 'locked/nested');
    mkdirSync(join(ws.dir, 'locked'));
    own(ws, join(ws.dir, 'locked'));
    mkdirSync(nested);
    own(ws, nested);
    hostGit(nested, 'init', '-q', '.');
    chmodSync(join(ws.dir, 'locked'), 0);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'chmod 755 locked; echo evil > locked/nested/.git/hooks/pre-commit; echo done']);
    expect(r.stdout).toBe('done\n');
    chmodSync(join(ws.dir, 'locked'), 0o755);
    expect(existsSync(join(nested, '.git/hooks/pre-commit'))).toBe(false);
  });
});
