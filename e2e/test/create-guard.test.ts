import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, hostGit as gitAsUser, own, userArgv, USERS, workspace, type Workspace, writeSettings, whenExists } from '../src/fence.js';

// The creation guard (SPEC §4.1 "No litter", "protected means protected as a name"): protected
// names are refused when they would be created, anywhere, so the user's tree holds no placeholder.
const RACE_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/create-race.c');

describe.each(USERS)('creation guard (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const hostGit = (cwd: string, ...args: string[]) => gitAsUser(ws, cwd, ...args);
  const mkdirOwned = (path: string) => {
    mkdirSync(path, { recursive: true });
    own(ws, path);
  };

  it('shows the host git nothing of Fence while the command runs, and after', async () => {
    ws = workspace(user);
    hostGit(ws.dir, 'init', '-q', '.');
    let during: string | undefined;
    const started = join(ws.dir, '.git/e2e-started');
    const run = fence(ws, ['-t', 'workspace-write', '-c', 'touch .git/e2e-started; while [ ! -e .git/e2e-go ]; do sleep 0.05; done; echo ran'], {
      onSpawn: () => {
        whenExists(started, () => {
          during = hostGit(ws.dir, 'status', '--porcelain', '--ignored');
          writeFileSync(join(ws.dir, '.git/e2e-go'), '');
        });
      },
    });
    const r = await run;
    expect(r.stdout).toBe('ran\n');
    expect(during).toBe('');
    expect(hostGit(ws.dir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(readdirSync(ws.dir).sort()).toEqual(['.git']);
  });

  it('lets git add -A and git commit work in the workspace repository', async () => {
    ws = workspace(user);
    hostGit(ws.dir, 'init', '-q', '.');
    writeFileSync(join(ws.dir, 'a.txt'), 'a\n');
    own(ws, join(ws.dir, 'a.txt'));
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'git add -A && git -c user.name=a -c user.email=a@b commit -qm inside && git status --porcelain && echo ok'], {});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(hostGit(ws.dir, 'log', '--format=%s')).toBe('inside\n');
    expect(hostGit(ws.dir, 'status', '--porcelain')).toBe('');
  });

  it('refuses a protected name through a symlink, a hard link, a rename, and a .git pointer', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'mkdir d; ln -s .bashrc d/link; echo evil > d/link; echo "dangling=$?"',
      'echo evil > d/y; ln d/y d/.zshrc; echo "hardlink=$?"; mv d/y d/.profile; echo "rename=$?"',
      'mkdir d/x d/x/hooks; echo evil > d/x/hooks/pre-commit; mv d/x d/.git; echo "dirgit=$?"',
      'echo "gitdir: /tmp/evil" > d/.git; echo "gitfile=$?"; ln -s /tmp/evil d/.git; echo "gitlink=$?"',
      'mkdir -p d/e/.config; mkdir d/e/.config/fence; echo "settingsdir=$?"; echo {} > d/fence.json; echo "settings=$?"',
    ].join('; ')]);
    for (const step of ['dangling', 'hardlink', 'rename', 'dirgit', 'gitfile', 'gitlink', 'settingsdir', 'settings']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    for (const p of ['d/.bashrc', 'd/.zshrc', 'd/.profile', 'd/.git', 'd/e/.config/fence', 'd/fence.json']) expect(existsSync(join(ws.dir, p)), p).toBe(false);
  });

  it('refuses a directory or symlink put at .git/modules or .git/worktrees (their git directories were never checked)', async () => {
    ws = workspace(user);
    hostGit(ws.dir, 'init', '-q', '.');
    // `.git/x` is no git directory, so anything may be made there; moved to `.git/modules` it
    // would be submodule `sub`'s git directory, whose hook a host `git submodule update` runs.
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'mkdir -p .git/x/sub/hooks && echo evil > .git/x/sub/hooks/post-checkout',
      'mv .git/x .git/modules; echo "modules=$?"',
      'ln -s "$PWD/.git/x" .git/worktrees; echo "worktrees=$?"',
    ].join('; ')]);
    for (const step of ['modules', 'worktrees']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    expect(r.stderr).toMatch(/refused to create .*\/\.git\/modules: a git directory's place/);
    for (const p of ['.git/modules', '.git/worktrees']) expect(existsSync(join(ws.dir, p)), p).toBe(false);
  });

  it('never creates a protected name while another thread flips the path (no check-then-use)', async (ctx) => {
    if (!hasProgram('cc')) return ctx.skip(true, 'no C compiler (cc) to build the attack program');
    ws = workspace(user);
    const race = join(ws.dir, 'race');
    const cc = spawnSync('cc', ['-O2', '-pthread', RACE_SOURCE, '-o', race], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    own(ws, race);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'mkdir d && cd d && ../race 20000'], { timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/^no \.bashrc after 20000 opens \(\d+ made safe, [1-9]\d* refused\)$/m);
    expect(r.status).toBe(0);
    expect(existsSync(join(ws.dir, 'd/.bashrc'))).toBe(false);
  });

  const supervised: readonly (readonly [string, readonly string[], object])[] = [
    ['', [], {}],
    [' (with -m)', ['-m'], {}],
    [' (with runtimeExecPolicy "argv")', [], { command: { runtimeExecPolicy: 'argv' } }],
  ];
  it.each(supervised)('the command cannot kill the guard (Landlock scope); where it could, the sandbox fails closed%s', async (_, args, settings) => {
    ws = workspace(user);
    writeSettings(ws, { ...settings, filesystem: { allowWrite: ['.'] } });
    const { addon } = (await import('@fence/native')) as typeof import('@fence/native');
    const scoped = (addon()?.landlockAbiVersion() ?? 0) >= 6;
    const r = await fence(ws, [...args, '--', 'sh', '-c', 'mkdir d; kill -9 $PPID && echo killed; sleep 0.5; echo evil > d/.bashrc; echo "after=$?"']);
    expect(r.stdout).not.toMatch(/after=0/);
    expect(existsSync(join(ws.dir, 'd/.bashrc'))).toBe(false);
    if (scoped) {
      // The command has a Landlock domain of its own under the guard's: the signal is refused and
      // the guard goes on refusing.
      expect(r.stdout).toBe('after=2\n');
      expect(r.stderr).toMatch(/kill: Operation not permitted/);
      expect(r.stderr).toMatch(/refused to create .*d\/\.bashrc/);
    } else {
      // The guard is the command's parent: killing it ends the sandbox, and nothing is created unchecked.
      expect(r.status).not.toBe(0);
    }
  });

  it('ends the sandbox, without spinning, when the guard can serve no more (its descriptor limit lowered from outside)', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: ['.'] } });
    // The command cannot lower the guard's limits (seccomp refuses prlimit on another pid); the host
    // can. The guard's poll then fails with EINVAL: it must end the sandbox, not loop.
    const marker = `guard-limit-${process.pid}-${Date.now()}`;
    let lowered = false;
    const run = fence(ws, ['-c', `touch started; while [ ! -e go ]; do sleep 0.05; done; : ${marker}; touch made; sleep 30; echo survived`], {
      onSpawn: () => {
        whenExists(join(ws.dir, 'started'), () => {
          // The command's shell is the one whose parent is a fence-launch (the guard); fence's own
          // Node process carries the marker in its arguments too.
          const parentOf = (pid: string) => spawnSync('ps', ['-o', 'ppid=', pid], { encoding: 'utf8' }).stdout.trim();
          const comm = (pid: string) => spawnSync('ps', ['-o', 'comm=', pid], { encoding: 'utf8' }).stdout.trim();
          const shells = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim().split('\n');
          const shell = shells.find((pid) => pid !== '' && comm(pid) !== 'fence-launch' && comm(parentOf(pid)) === 'fence-launch');
          const guard = shell === undefined ? undefined : parentOf(shell);
          // As the run's own user: any of its host processes may do this (the host's root was
          // refused for uid 65534's sandbox here).
          if (guard !== undefined) {
            const [cmd, ...rest] = userArgv(user, ['prlimit', '--pid', guard, '--nofile=1:1']);
            lowered = spawnSync(cmd!, rest).status === 0;
          }
          writeFileSync(join(ws.dir, 'go'), '');
        });
      },
      timeoutMs: 25_000,
    });
    const r = await run;
    expect(lowered).toBe(true);
    expect(r.stderr).toContain('fence-launch: guard: poll: Invalid argument; ending the sandbox');
    expect(r.stdout).not.toContain('survived');
    expect(r.status).toBe(125);
  }, 30_000);

  it('keeps npm install of a local package and git clone of a local repository working', async () => {
    ws = workspace(user);
    const pkg = join(ws.dir, 'localpkg');
    mkdirOwned(join(pkg, 'lib'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'localpkg', version: '1.0.0', main: 'lib/index.js' }));
    writeFileSync(join(pkg, 'lib/index.js'), 'module.exports = 42;\n');
    const src = join(ws.dir, 'src');
    mkdirOwned(src);
    hostGit(src, 'init', '-q', '.');
    writeFileSync(join(src, 'f.txt'), 'f\n');
    for (const p of [join(pkg, 'package.json'), join(pkg, 'lib/index.js'), join(src, 'f.txt')]) own(ws, p);
    hostGit(src, 'add', 'f.txt');
    hostGit(src, 'commit', '-qm', 'first');
    writeFileSync(join(ws.dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
    own(ws, join(ws.dir, 'package.json'));
    const r = await fence(ws, ['-t', 'workspace-write', '-c', [
      'npm pack --silent ./localpkg >/dev/null --pack-destination /tmp --cache /tmp/npm-cache',
      'npm install --silent --offline --no-audit --no-fund --cache /tmp/npm-cache /tmp/localpkg-1.0.0.tgz',
      'node -p "require(\'localpkg\')"',
      'git clone -q src dst && git -C dst log --format=%s',
    ].join(' && ')], { timeoutMs: 120_000 });
    expect(r.stdout).toBe('42\nfirst\n');
    expect(r.status).toBe(0);
    expect(existsSync(join(ws.dir, 'node_modules/localpkg/lib/index.js'))).toBe(true);
    expect(existsSync(join(ws.dir, 'dst/f.txt'))).toBe(true);
  });

  it('starts with 150 nested repositories (each needs no placeholder)', async () => {
    ws = workspace(user);
    for (let i = 0; i < 150; i++) {
      mkdirOwned(join(ws.dir, `r${i}`));
      hostGit(join(ws.dir, `r${i}`), 'init', '-q', '.');
    }
    const r = await fence(ws, ['-t', 'workspace-write', '-c', 'echo x > r7/.git/hooks/pre-commit; echo "hook=$?"; echo ok'], { timeoutMs: 60_000 });
    expect(r.stderr).not.toMatch(/fence: .*(limit|too many)/i);
    expect(r.stdout).toMatch(/^hook=[1-9]/m);
    expect(r.stdout).toMatch(/^ok$/m);
    expect(r.status).toBe(0);
  });

  /**
   * Runs `script` (a file in the workspace, so the command line names none of its programs) in a
   * repository; the host git looks at the workspace while the command waits. Returns the run's
   * result, what `git status` showed before the run (the test's own files) and during it.
   */
  const duringRun = async (args: readonly string[], script: string) => {
    hostGit(ws.dir, 'init', '-q', '.');
    const wait = 'touch .git/e2e-started; while [ ! -e .git/e2e-go ]; do sleep 0.05; done; rm .git/e2e-started .git/e2e-go';
    writeFileSync(join(ws.dir, 'agent.sh'), `${wait}\n${script}\n`);
    own(ws, join(ws.dir, 'agent.sh'));
    const before = hostGit(ws.dir, 'status', '--porcelain', '--ignored');
    let during: string | undefined;
    const started = join(ws.dir, '.git/e2e-started');
    const r = await fence(ws, [...args, '--', 'sh', './agent.sh'], {
      onSpawn: () => {
        whenExists(started, () => {
          during = hostGit(ws.dir, 'status', '--porcelain', '--ignored');
          writeFileSync(join(ws.dir, '.git/e2e-go'), '');
        });
      },
    });
    return { ...r, before, during };
  };

  // The seccomp supervisor (-m, runtimeExecPolicy "argv") and the guard share the one listener a
  // process may have: the guard holds it and forwards the supervisor's calls to Fence.
  it('keeps guarding with -m: protected names refused, no placeholder in the tree, seccomp denials still reported with host pids, the guard\'s refusals said to be uncounted', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: ['.'] } });
    const r = await duringRun(['-m'], 'echo evil > .bashrc; echo "bashrc=$?"; mkdir -p sub/.vscode; echo "vscode=$?"; sh -c \'echo "sandbox pid $$"; exec unshare --user true\'; echo ok');
    expect(r.during).toBe(r.before);
    expect(r.stdout).toMatch(/^bashrc=[1-9]\d*$/m);
    expect(r.stdout).toMatch(/^vscode=[1-9]\d*$/m);
    expect(r.stdout).toMatch(/^ok$/m);
    expect(r.stderr).toMatch(/^fence: refused to create .*\/\.bashrc: .*\(Fence's mandatory write protection\)$/m);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stderr).not.toMatch(/no creation guard|placeholder/);
    // The eBPF monitor (root) counts its refusals as file denials; without it -m says it leaves them out.
    const uncounted = /^fence: -m does not show the creation guard's refusals in its count \(its own `fence: refused to …` lines still show each\)$/m;
    if (/^fence: -m does not show file, exec and connect denials/m.test(r.stderr)) expect(r.stderr).toMatch(uncounted);
    else expect(r.stderr).toMatch(/^\[fence:ebpf\] .* ✗ open: Operation not permitted/m);
    const denial = /\[fence:seccomp\] .* unshare\(CLONE_NEWUSER\): Operation not permitted \(unshare, pid=(\d+)\)/.exec(r.stderr);
    expect(denial, r.stderr).not.toBeNull();
    // The pid Fence reports is the host's, not the sandbox's own numbering.
    const inside = /^sandbox pid (\d+)$/m.exec(r.stdout)?.[1];
    expect(inside).toBeDefined();
    expect(denial![1]).not.toBe(inside);
    expect(hostGit(ws.dir, 'status', '--porcelain', '--ignored')).toBe(r.before);
    expect(existsSync(join(ws.dir, '.bashrc'))).toBe(false);
    expect(existsSync(join(ws.dir, 'sub/.vscode'))).toBe(false);
  });

  it('keeps guarding with command.runtimeExecPolicy "argv": protected names refused, exec decisions as before, no placeholder in the tree', async () => {
    ws = workspace(user);
    writeSettings(ws, { command: { deny: ['echo'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    // The shell's echo is a builtin (no exec); /bin/echo is refused by its argv, /bin/true allowed.
    const r = await duringRun([], 'echo evil > .bashrc; echo "bashrc=$?"; /bin/echo denied ran; echo "echo=$?"; /bin/true && echo "true=$?"; git init -q r && echo x > r/.git/hooks/pre-commit; echo "hook=$?"');
    expect(r.during).toBe(r.before);
    expect(r.stdout).toMatch(/^bashrc=[1-9]\d*$/m);
    expect(r.stdout).not.toContain('denied ran');
    expect(r.stdout).toMatch(/^echo=[1-9]\d*$/m);
    expect(r.stdout).toMatch(/^true=0$/m);
    expect(r.stdout).toMatch(/^hook=[1-9]\d*$/m);
    expect(r.stderr).toMatch(/^fence: refused to create .*\/\.bashrc: .*\(Fence's mandatory write protection\)$/m);
    expect(r.stderr).not.toMatch(/no creation guard|placeholder/);
    expect(existsSync(join(ws.dir, '.bashrc'))).toBe(false);
    expect(existsSync(join(ws.dir, 'r/.git/hooks/pre-commit'))).toBe(false);
    expect(hostGit(ws.dir, 'status', '--porcelain', '--ignored')).toBe(`${r.before}?? r/\n`);
  });
});
