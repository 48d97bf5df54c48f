import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hostGitResult, own, USERS, workspace, type Workspace } from '../src/fence.js';

/** A Python expression: the xattr form of the minimal access ACL u::rwx,g::r-x,o::r-x (mode 755). */
const ACL_755 = "struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, 0xffffffff) for t, p in ((1, 7), (4, 5), (32, 5)))";

// The creation guard sees more than creations (SPEC §4.1 "for git, nothing the command writes can
// make a host git run code"): truncate(2) empties a file by its name without an open, chmod gives
// a hook git skipped the exec bit git needs, and a descriptor opened read-only can be opened again
// for writing through /proc/self/fd, and an access ACL (setfacl) is a chmod. Judged by what a host git does after the run.
describe.each(USERS)('truncate and chmod of git files (as %s)', (user) => {
  let ws: Workspace;
  let target: string;
  afterEach(() => {
    ws.cleanup();
    rmSync(target, { recursive: true, force: true });
  });

  const hostGit = (cwd: string, ...args: string[]) => hostGitResult(ws, cwd, ...args);

  /** A repository whose pre-commit hook exists but is not executable (git skips it), and where its run would leave a mark. */
  const repo = () => {
    ws = workspace(user);
    target = mkdtempSync('/var/tmp/fence-e2e-target-');
    chmodSync(target, 0o777);
    expect(hostGit(ws.dir, 'init', '-q', '.').status).toBe(0);
    const marker = join(target, 'hook-ran');
    const hook = join(ws.dir, '.git/hooks/pre-commit');
    writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o644 });
    chmodSync(hook, 0o644);
    own(ws, hook);
    writeFileSync(join(ws.dir, 'a.txt'), 'a\n');
    own(ws, join(ws.dir, 'a.txt'));
    return { marker, hook, config: readFileSync(join(ws.dir, '.git/config'), 'utf8') };
  };

  it('refuses emptying an existing repository\'s config: truncate(2), and a read-only descriptor opened again for writing', async () => {
    const { config } = repo();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'truncate -s 0 .git/config; echo "truncate=$?"',
      'python3 -c "import os; os.truncate(\'.git/config\', 0)"; echo "pytruncate=$?"',
      'ln -s .git/config c; python3 -c "import os; os.truncate(\'c\', 0)"; echo "vialink=$?"',
      'exec 3<.git/config; : > /dev/fd/3; echo "reopen=$?"; : > /proc/self/fd/3; echo "procfd=$?"',
      'python3 -c "import os; os.truncate(\'/proc/self/fd/%d\' % os.open(\'.git/config\', os.O_RDONLY), 0)"; echo "pyprocfd=$?"',
    ].join('; ')]);
    for (const step of ['truncate', 'pytruncate', 'vialink', 'reopen', 'procfd', 'pyprocfd']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(r.stderr).toMatch(/fence: refused to truncate \/.*\/\.git\/config: git configuration of a repository that existed before this run/);
    expect(r.stderr).toMatch(/fence: refused to write \/.*\/\.git\/config: /);
    expect(readFileSync(join(ws.dir, '.git/config'), 'utf8')).toBe(config);
  });

  it('refuses giving a hook git skipped the exec bit (chmod, fchmod, fchmodat through /proc, a symlink), so a host git commit runs nothing', async () => {
    const { marker, hook } = repo();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'chmod +x .git/hooks/pre-commit; echo "chmod=$?"',
      'python3 -c "import os; os.fchmod(os.open(\'.git/hooks/pre-commit\', os.O_RDONLY), 0o755)"; echo "fchmod=$?"',
      // glibc's fchmodat(AT_SYMLINK_NOFOLLOW) is an O_PATH open and a chmod of /proc/self/fd/N.
      'python3 -c "import os; os.chmod(\'.git/hooks/pre-commit\', 0o755, follow_symlinks=False)"; echo "nofollow=$?"',
      'ln -s .git/hooks/pre-commit h; chmod 755 h; echo "vialink=$?"',
      'exec 3<.git/hooks/pre-commit; printf "#!/bin/sh\\ntouch x\\n" > /dev/fd/3; echo "reopen=$?"',
      // setfacl -m u::rwx: an access ACL sets the mode's bits as chmod does.
      `python3 -c "import os, struct; os.setxattr('.git/hooks/pre-commit', 'system.posix_acl_access', ${ACL_755})"; echo "acl=$?"`,
    ].join('; ')]);
    for (const step of ['chmod', 'fchmod', 'nofollow', 'vialink', 'reopen', 'acl']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(r.stderr).toMatch(/fence: refused to set an access ACL on \/.*\/\.git\/hooks\/pre-commit: /);
    expect(r.stderr).toMatch(/fence: refused to chmod \/.*\/\.git\/hooks\/pre-commit: inside a git directory's hooks or info/);
    expect(statSync(hook).mode & 0o777).toBe(0o644);
    expect(hostGit(ws.dir, 'add', 'a.txt').status).toBe(0);
    expect(hostGit(ws.dir, 'commit', '-qm', 'after').status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('lets chmod take bits away, mode changes elsewhere, and git init, add and commit work', async () => {
    const { hook } = repo();
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'chmod 600 .git/hooks/pre-commit',
      'chmod 755 . && mkdir -p d/e && chmod -R 755 d && chmod 700 d/e/.',
      'echo "#!/bin/sh" > run.sh && chmod +x run.sh && ./run.sh',
      'truncate -s 1 a.txt',
      `echo x > acl.sh && python3 -c "import os, struct; os.setxattr('acl.sh', 'system.posix_acl_access', ${ACL_755}); os.setxattr('acl.sh', 'user.fence', b'1')"`,
      'git init -q sub && cd sub && echo s > s && git add s && git -c user.name=a -c user.email=a@b commit -qm sub && cd ..',
      'git add a.txt && git -c user.name=a -c user.email=a@b commit -qm inside && echo ok',
    ].join(' && ')]);
    expect(r.stderr).not.toMatch(/fence: refused/);
    expect(r.stdout).toBe('ok\n');
    expect(statSync(hook).mode & 0o777).toBe(0o600);
    expect(statSync(join(ws.dir, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(ws.dir, 'a.txt'), 'utf8')).toBe('a');
    expect(statSync(join(ws.dir, 'acl.sh')).mode & 0o777).toBe(0o755);
  });
});
