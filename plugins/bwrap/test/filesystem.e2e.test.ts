import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runIn, removeScratch, scratch, sh, skipReason } from './sandbox-helper.js';

const gitInit = (dir: string) => execFileSync('git', ['init', '-q', dir]);

describe.skipIf(skipReason)('bwrap sandbox: filesystem', () => {
  it('blocks writes outside allowWrite: absolute, through .. and through a symlink', async () => {
    const root = scratch();
    const ws = join(root, 'ws');
    const outside = scratch();
    mkdirSync(ws);
    symlinkSync(outside, join(ws, 'link'));
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, sh(
      `echo a > ${outside}/abs; echo b > ../dotdot; echo c > link/via-link; echo ok > inside`,
    ));
    expect(readFileSync(join(ws, 'inside'), 'utf8')).toBe('ok\n');
    expect(existsSync(join(outside, 'abs'))).toBe(false);
    expect(existsSync(join(root, 'dotdot'))).toBe(false);
    expect(existsSync(join(outside, 'via-link'))).toBe(false);
    expect(r.stderr).toMatch(/via-link: (Read-only file system|Directory nonexistent|No such file)/);
  });

  it('makes the system read-only: touch /etc/x fails with "Read-only file system"', async () => {
    const r = await runIn({ cwd: scratch() }, ['touch', '/etc/fence-e2e-x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
    expect(existsSync('/etc/fence-e2e-x')).toBe(false);
  });

  it('stops renaming .git away and writing .git/hooks', async () => {
    const ws = scratch();
    gitInit(ws);
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, sh(
      'mv .git x; echo "mv=$?"; echo evil > .git/hooks/pre-commit; echo "hook=$?"; rm -rf .git 2>/dev/null; test -d .git && echo still-there; mkdir -p .git/hooks; echo evil > .git/hooks/pre-commit; echo "rehook=$?"',
    ));
    expect(r.stdout).toContain('mv=1');
    expect(r.stdout).toContain('hook=');
    expect(r.stdout).not.toContain('hook=0');
    // The git directory is a mount point; what is inside may be removed (the creation guard then
    // refuses a hook in its place).
    expect(r.stdout).toContain('still-there');
    expect(r.stdout).not.toContain('rehook=0');
    expect(existsSync(join(ws, '.git/hooks/pre-commit'))).toBe(false);
    expect(existsSync(join(ws, 'x'))).toBe(false);
  });

  it('stops appending to an existing .bashrc and creating a new one in the working directory', async () => {
    const ws = scratch();
    writeFileSync(join(ws, '.bashrc'), '# mine\n');
    const sub = join(ws, 'sub');
    mkdirSync(sub);
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, sh(
      'echo evil >> .bashrc; echo evil > .mcp.json; echo evil > .zshrc; mkdir .vscode; echo done',
    ));
    expect(r.stdout).toContain('done');
    expect(readFileSync(join(ws, '.bashrc'), 'utf8')).toBe('# mine\n');
    for (const n of ['.mcp.json', '.zshrc', '.vscode']) expect(existsSync(join(ws, n)), n).toBe(false);
  });

  it('blocks .git/config unless allowGitConfig', async () => {
    const ws = scratch();
    gitInit(ws);
    const before = readFileSync(join(ws, '.git/config'), 'utf8');
    await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, ['git', 'config', 'user.name', 'evil']);
    expect(readFileSync(join(ws, '.git/config'), 'utf8')).toBe(before);
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'], allowGitConfig: true } } }, ['git', 'config', 'user.name', 'allowed']);
    expect(r.status).toBe(0);
    expect(readFileSync(join(ws, '.git/config'), 'utf8')).toContain('allowed');
  });

  it('protects ~/.bashrc even when $HOME is writable', async () => {
    const home = scratch('fence-bwrap-home-');
    writeFileSync(join(home, '.bashrc'), '# home\n');
    const r = await runIn(
      { cwd: scratch(), env: { ...process.env, HOME: home }, settings: { filesystem: { allowWrite: [home] } } },
      sh('echo evil >> "$HOME/.bashrc"; echo evil > "$HOME/.profile"; echo fine > "$HOME/notes"; echo done'),
    );
    expect(r.stdout).toContain('done');
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('# home\n');
    expect(existsSync(join(home, '.profile'))).toBe(false);
    expect(readFileSync(join(home, 'notes'), 'utf8')).toBe('fine\n');
  });

  it('hides denyRead files, directories and glob matches', async () => {
    const ws = scratch();
    writeFileSync(join(ws, 'secret.txt'), 'TOPSECRET-file');
    mkdirSync(join(ws, 'private'));
    writeFileSync(join(ws, 'private/k'), 'TOPSECRET-dir');
    mkdirSync(join(ws, 'a/b'), { recursive: true });
    writeFileSync(join(ws, 'a/b/c.key'), 'TOPSECRET-glob');
    writeFileSync(join(ws, 'a/b/visible.txt'), 'visible');
    const r = await runIn(
      { cwd: ws, settings: { filesystem: { denyRead: ['./secret.txt', 'private', '**/*.key'] } } },
      sh('cat secret.txt private/k a/b/c.key a/b/visible.txt; ls -A private'),
    );
    expect(r.stdout).not.toContain('TOPSECRET');
    expect(r.stdout).toContain('visible');
  });

  it('keeps denyWrite paths read-only inside a writable directory, existing or not', async () => {
    const ws = scratch();
    writeFileSync(join(ws, 'locked.txt'), 'original');
    await runIn(
      { cwd: ws, settings: { filesystem: { allowWrite: ['.'], denyWrite: ['locked.txt', 'later.txt'] } } },
      sh('echo evil >> locked.txt; echo evil > later.txt; echo ok > free.txt'),
    );
    expect(readFileSync(join(ws, 'locked.txt'), 'utf8')).toBe('original');
    expect(existsSync(join(ws, 'later.txt'))).toBe(false);
    expect(readFileSync(join(ws, 'free.txt'), 'utf8')).toBe('ok\n');
  });

  it('gives the command a private /tmp that leaves nothing on the host', async () => {
    const name = `/tmp/fence-e2e-leak-${process.pid}-${Date.now()}`;
    const r = await runIn({ cwd: scratch() }, sh(`echo x > ${name} && cat ${name}`));
    expect(r.stdout).toBe('x\n');
    expect(existsSync(name)).toBe(false);
  });

  it('keeps a working directory under /tmp, readable when not writable', async () => {
    const ws = scratch();
    writeFileSync(join(ws, 'here.txt'), 'here');
    const r = await runIn({ cwd: ws }, sh('pwd; cat here.txt; echo x > new.txt || echo denied'));
    expect(r.stdout).toBe(`${ws}\nhere` + 'denied\n');
    expect(existsSync(join(ws, 'new.txt'))).toBe(false);
  });

  it('skips a nonexistent allowWrite path with a warning instead of failing', async () => {
    const ws = scratch();
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['./missing-dir', '.'] } } }, sh('echo ok > f && cat f'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(r.warnings.join('\n')).toMatch(/allowWrite: ".*missing-dir" does not exist/);
  });

  it('leaves no placeholder behind after the session closes', async () => {
    const ws = scratch();
    await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, ['true']);
    expect(execFileSync('ls', ['-A', ws], { encoding: 'utf8' })).toBe('');
  });
});

afterAll(removeScratch);
