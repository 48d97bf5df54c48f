import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, own, USERS, userArgv, workspace, writeSettings, type Workspace } from '../src/fence.js';

/** The system's directories only: a PATH entry uid 65534 cannot search (/root/…) would fail with EACCES too. */
const SYSTEM_PATH = '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A program named `name` in a directory of its own, printing that it ran: a stand-in the test puts on PATH. */
function fakeProgram(ws: Workspace, name: string): string {
  // In the working directory: the sandbox's /tmp is its own, the workspace's siblings are not there.
  const dir = join(ws.dir, 'fakebin');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "${name} ran"\n`);
  chmodSync(file, 0o755);
  return dir;
}

/** A script in the workspace; its commands are not on the command line Fence is given. */
function script(ws: Workspace, name: string, text: string): void {
  writeFileSync(join(ws.dir, name), text);
  own(ws, join(ws.dir, name));
}

describe.each(USERS)('command.runtimeExecPolicy "path" (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('refuses a denied program started by a grandchild: its file cannot be executed', async () => {
    ws = workspace(user);
    const bin = fakeProgram(ws, 'sudo');
    script(ws, 'agent.sh', 'sudo id; echo "exit $?"\n');
    const env = { PATH: `${bin}:${SYSTEM_PATH}` };
    const r = await fence(ws, ['--', 'sh', '-c', 'sh ./agent.sh'], { env });
    expect(r.stdout).not.toContain('sudo ran');
    expect(r.stdout).toMatch(/^exit [1-9]\d*\n$/);
    expect(r.stderr).toMatch(/sudo: Permission denied/);
    // The control: without the built-in rules the same grandchild runs it.
    writeSettings(ws, { command: { useDefaults: false } });
    const allowed = await fence(ws, ['--', 'sh', '-c', 'sh ./agent.sh'], { env });
    expect(allowed.stdout).toContain('sudo ran');
  });

  it('keeps a program executable when an allow rule uses it with arguments, and says so with -d', async () => {
    ws = workspace(user);
    const bin = fakeProgram(ws, 'sudo');
    writeSettings(ws, { command: { allow: ['sudo -n true'] } });
    script(ws, 'agent.sh', 'sudo -n true\n');
    const r = await fence(ws, ['-d', '--', 'sh', './agent.sh'], { env: { PATH: `${bin}:${SYSTEM_PATH}` } });
    expect(r.stdout).toContain('sudo ran');
    expect(r.stderr).toContain('sudo: checked on command lines only (command.allow names it with arguments)');
  });

  it('masks a multicall binary all the same, warning with the commands it takes along', async () => {
    ws = workspace(user);
    const bin = join(ws.dir, 'box');
    mkdirSync(bin);
    writeFileSync(join(bin, 'box'), '#!/bin/sh\necho "$(basename "$0") ran"\n');
    chmodSync(join(bin, 'box'), 0o755);
    // boxonly: a name no other directory of PATH has, so the shell's search cannot find another one.
    for (const name of ['chroot', 'ls', 'cat', 'boxonly']) spawnSync('ln', ['-s', join(bin, 'box'), join(bin, name)]);
    writeSettings(ws, { command: { deny: ['chroot'] } });
    const env = { PATH: `${bin}:${SYSTEM_PATH}` };
    const r = await fence(ws, ['--', 'sh', '-c', 'boxonly; echo "exit $?"'], { env });
    expect(r.stderr).toMatch(/fence: warning: command: chroot is .*\/box, which also runs cat, ls \(and 2 other command\(s\)\): those cannot run in the sandbox either; list chroot in command.acceptSharedBinaryCannotRuntimeDeny/);
    expect(r.stderr).toMatch(/boxonly: Permission denied/);
    expect(r.stdout).toMatch(/^exit [1-9]\d*\n$/);
    writeSettings(ws, { command: { deny: ['chroot'], acceptSharedBinaryCannotRuntimeDeny: ['chroot'] } });
    const accepted = await fence(ws, ['--', 'sh', '-c', 'boxonly'], { env });
    expect(accepted.stderr).toBe('');
    expect(accepted.stdout).toBe('boxonly ran\n');
  });
});

/** A repository with one commit and a bare `origin` in the workspace, owned by the workspace's user. */
function repository(ws: Workspace): void {
  const git = (args: string[]) => {
    const r = spawnSync(userArgv(ws.user, ['git', ...args])[0]!, userArgv(ws.user, ['git', ...args]).slice(1), { cwd: ws.dir, env: { PATH: process.env.PATH, HOME: ws.home } });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git(['init', '-q', '--bare', 'origin.git']);
  git(['init', '-q', '-b', 'main', 'repo']);
  git(['-C', 'repo', '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'one']);
  git(['-C', 'repo', 'remote', 'add', 'origin', join(ws.dir, 'origin.git')]);
}

const pushed = (ws: Workspace, branch: string) => existsSync(join(ws.dir, 'origin.git', 'refs', 'heads', branch));

const WAYS: readonly (readonly [string, string])[] = [
  ['bash -c', `bash -c 'git push -q origin HEAD:b1'`],
  ['a renamed copy', 'cp "$(command -v git)" /tmp/g && /tmp/g push -q origin HEAD:b2'],
  ['env', 'env GIT_TRACE=0 git push -q origin HEAD:b3'],
  ['xargs', 'echo push -q origin HEAD:b4 | xargs git'],
  ['a script', `printf 'git push -q origin HEAD:b5\\n' > /tmp/push.sh && sh /tmp/push.sh`],
];

describe.runIf(hasProgram('git')).each(USERS)('command.runtimeExecPolicy "argv" (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const agent = WAYS.map(([, line]) => `( cd repo && ${line} ); echo "exit $?"`).join('\n');

  it('refuses git push started by a wrapped parent through bash -c, a renamed copy, env, xargs and a script', async () => {
    ws = workspace(user);
    repository(ws);
    writeSettings(ws, { command: { deny: ['git push'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    script(ws, 'agent.sh', `${agent}\n`);
    const r = await fence(ws, ['-m', '--json', '--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    for (const branch of ['b1', 'b2', 'b3', 'b4', 'b5']) expect(pushed(ws, branch), `${branch}: ${r.stderr}`).toBe(false);
    expect(r.stdout.trim().split('\n')).toEqual(WAYS.map(() => expect.stringMatching(/^exit [1-9]/)));
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const refusals = events.filter((e) => e.source === 'command');
    expect(refusals.length).toBeGreaterThanOrEqual(WAYS.length);
    for (const e of refusals) expect(e).toMatchObject({ action: 'block', reason: 'command.deny rule "git push"', target: expect.stringMatching(/^git push/) });
  });

  it('refuses git push behind git\'s own options, in its dashed form and through the dynamic loader', async () => {
    ws = workspace(user);
    repository(ws);
    writeSettings(ws, { command: { deny: ['git push'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    const ways = [
      'git -C . push -q origin HEAD:c1',
      'git --git-dir=.git --no-pager push -q origin HEAD:c2',
      '"$(git --exec-path)/git-push" -q origin HEAD:c3',
      'for l in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do [ -x $l ] && exec $l "$(command -v git)" push -q origin HEAD:c4; done',
    ];
    script(ws, 'agent.sh', `${ways.map((line) => `( cd repo && ${line} ); echo "exit $?"`).join('\n')}\n`);
    const r = await fence(ws, ['--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    for (const branch of ['c1', 'c2', 'c3', 'c4']) expect(pushed(ws, branch), `${branch}: ${r.stderr}`).toBe(false);
    expect(r.stdout.trim().split('\n')).toEqual(ways.map(() => expect.stringMatching(/^exit [1-9]/)));
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  it('follows the file as the caller sees it: an absolute symlink into its private /tmp, /proc/self/fd/N of a memfd, /dev/fd/N', async () => {
    ws = workspace(user);
    repository(ws);
    writeSettings(ws, { command: { deny: ['git push'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    // The memfd holds a copy of git, run by its descriptor's /proc and /dev/fd names under another argv[0].
    const memfd = (name: string, branch: string) =>
      `python3 -c 'import os,shutil; fd=os.memfd_create("x", 0); shutil.copyfileobj(open(shutil.which("git"),"rb"), open(fd,"wb",closefd=False)); os.execv("${name}/%d" % fd, ["x","push","-q","origin","HEAD:${branch}"])'`;
    const ways = [
      // The copy is in the sandbox's own /tmp: Fence's /tmp has no /tmp/g.
      'cp "$(command -v git)" /tmp/g && ln -sf /tmp/g ../x && bash -c \'exec -a x ../x push -q origin HEAD:d1\'',
      ...(hasProgram('python3') ? [memfd('/proc/self/fd', 'd2'), memfd('/dev/fd', 'd3')] : []),
    ];
    script(ws, 'agent.sh', `${ways.map((line) => `( cd repo && ${line} ); echo "exit $?"`).join('\n')}\n`);
    const r = await fence(ws, ['-m', '--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    for (const branch of ['d1', 'd2', 'd3']) expect(pushed(ws, branch), `${branch}: ${r.stderr}`).toBe(false);
    expect(r.stdout.trim().split('\n')).toEqual(ways.map(() => expect.stringMatching(/^exit [1-9]/)));
    // Refused as git push, each of them (not for some other reason).
    expect(r.stderr.match(/✗ exec git push .*command\.deny rule "git push"/g)?.length, r.stderr).toBe(ways.length);
  });

  it('refuses a file it cannot read while programs are denied, saying why', async () => {
    ws = workspace(user);
    repository(ws);
    writeSettings(ws, { command: { deny: ['git push'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    // Execute-only: the kernel runs it, the user cannot read it (root can: then it is git).
    script(ws, 'agent.sh', 'cp "$(command -v git)" g && chmod 111 g && cd repo && ../g push -q origin HEAD:e1; echo "exit $?"\n');
    const r = await fence(ws, ['-m', '--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    expect(pushed(ws, 'e1'), r.stderr).toBe(false);
    expect(r.stdout).toMatch(/^exit [1-9]/);
    if (user === 'nobody') expect(r.stderr).toMatch(/command.runtimeExecPolicy "argv": the file it runs \(\.\.\/g\) cannot be identified/);
  });

  it('refuses a denied program that is a script\'s #! interpreter (the kernel runs it, no execve shows it)', async () => {
    ws = workspace(user);
    writeSettings(ws, { command: { deny: ['echo'], runtimeExecPolicy: 'argv' } });
    script(ws, 'p', `#!${realpathSync('/bin/echo')} denied program ran\n`);
    script(ws, 'nested', `#!${ws.dir}/p\n`);
    script(ws, 'fine', '#!/bin/sh\nprintf "fine\\n"\n');
    for (const name of ['p', 'nested', 'fine']) chmodSync(join(ws.dir, name), 0o755);
    // The shell's own echo is a builtin: no exec.
    script(ws, 'agent.sh', './p; echo "exit $?"; ./nested; echo "exit $?"; ./fine\n');
    const r = await fence(ws, ['--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    expect(r.stdout).toBe('exit 126\nexit 126\nfine\n');
  });

  it('allows the same pushes when command.allow says so', async () => {
    ws = workspace(user);
    repository(ws);
    writeSettings(ws, { command: { deny: ['git push'], allow: ['git push -q'], runtimeExecPolicy: 'argv' }, filesystem: { allowWrite: ['.'] } });
    script(ws, 'agent.sh', `${agent}\n`);
    const r = await fence(ws, ['--', 'sh', './agent.sh'], { timeoutMs: 60_000 });
    expect(r.stdout, r.stderr).toBe(WAYS.map(() => 'exit 0\n').join(''));
    for (const branch of ['b1', 'b2', 'b3', 'b4', 'b5']) expect(pushed(ws, branch)).toBe(true);
  });

  it('refuses sudo from a grandchild by its arguments too, and lets other programs run', async () => {
    ws = workspace(user);
    writeSettings(ws, { command: { runtimeExecPolicy: 'argv' } });
    script(ws, 'agent.sh', 'sh -c "sudo id"; echo "exit $?"; ls -d /; echo "exit $?"\n');
    const r = await fence(ws, ['-m', '--', 'sh', './agent.sh']);
    expect(r.stdout).toMatch(/^exit [1-9]\d*\n\/\nexit 0\n$/);
    expect(r.stderr).toMatch(/\[fence:command\] \d\d:\d\d:\d\d ✗ exec sudo id: the built-in rule "sudo" \(command\.useDefaults\) \(sh, pid=\d+\)/);
  });

  it('applies the SSH policy to an ssh that a script starts (before connecting)', async () => {
    ws = workspace(user);
    writeSettings(ws, { command: { runtimeExecPolicy: 'argv' }, ssh: { allowedHosts: ['*.example.com'], allowedCommands: ['uptime'] } });
    script(ws, 'agent.sh', 'ssh -o BatchMode=yes -p 22 me@evil.org uptime; echo "exit $?"\n');
    const r = await fence(ws, ['-m', '--', 'sh', './agent.sh']);
    expect(r.stdout).toMatch(/^exit [1-9]/);
    expect(r.stderr).toMatch(/✗ exec ssh -o BatchMode=yes -p 22 me@evil\.org uptime: ssh\.allowedHosts: host "evil\.org" is not listed/);
  });
});

describe.each(USERS)('the SSH policy on the command line (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('refuses an unlisted host and an unlisted remote command before ssh starts, naming the rule', async () => {
    ws = workspace(user);
    writeSettings(ws, { ssh: { allowedHosts: ['*.example.com'], deniedHosts: ['db.example.com'], allowedCommands: ['uptime'] } });
    const host = await fence(ws, ['--', 'ssh', '-p', '2222', '-l', 'me', 'evil.org']);
    expect(host.status).toBe(1);
    expect(host.stderr).toBe('fence: command "ssh -p 2222 -l me evil.org" is denied by ssh.allowedHosts: host "evil.org" is not listed; add the host to ssh.allowedHosts\n');
    const denied = await fence(ws, ['-c', 'ssh -o BatchMode=yes db.example.com']);
    expect(denied.stderr).toMatch(/is denied by ssh\.deniedHosts rule "db\.example\.com"/);
    const command = await fence(ws, ['--', 'ssh', 'me@web.example.com', '--', 'rm', '-rf', '/srv']);
    expect(command.stderr).toMatch(/is denied by ssh\.allowedCommands: remote command "rm -rf \/srv" is not listed/);
  });
});
