import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasProgram, own, USERS, workspace, type Workspace } from '../src/fence.js';
import { fenceOnTerminal } from '../src/terminal.js';

const SHELL = ['--', 'bash', '--norc', '--noprofile', '-i'];
/** Waited for after ^C or ^Z: the terminal discards what was typed ahead of a signal key. */
const settle = () => new Promise((r) => setTimeout(r, 400));
/** Whether `sleep <n>` runs inside a sandbox, in one of these states (S: sleeping, T: stopped); seen from the host. */
const sleeping = (n: number, states = 'S') => spawnSync('pgrep', ['-r', states, '-fx', `sleep ${n}`]).status === 0;
const until = async (what: () => boolean, ms = 15_000) => {
  for (const end = Date.now() + ms; Date.now() < end && !what(); ) await new Promise((r) => setTimeout(r, 50));
  expect(what()).toBe(true);
};

describe.each(USERS)('the fence command on a terminal (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('runs the command as the foreground process group of a terminal of its own, where /dev/tty opens', async () => {
    ws = workspace(user);
    const probe = [
      'import os',
      "print('foreground=%s' % (os.tcgetpgrp(0) == os.getpgrp()))",
      "os.close(os.open('/dev/tty', os.O_RDWR))",
      "print('dev-tty=opened')",
    ].join('; ');
    const r = await fenceOnTerminal(ws, ['-c', `tty; python3 -c "${probe}"`]).exited;
    expect(r.output).toMatch(/^\/dev\/pts\/\d+\r\n/);
    expect(r.output).toContain('foreground=True');
    expect(r.output).toContain('dev-tty=opened');
    expect(r.status).toBe(0);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('gives Ctrl-C to the job inside: sleep is interrupted, bash -i survives and answers', async () => {
    ws = workspace(user);
    const t = fenceOnTerminal(ws, SHELL);
    const n = user === 'root' ? 2013 : 2113; // a sleep no other test runs
    t.type(`sleep ${n}\r`);
    await until(() => sleeping(n));
    t.type('\x03');
    await until(() => !sleeping(n, 'S,T'));
    await settle();
    // The ^C ended the sleep, not the sandbox: the shell is still there to answer.
    t.type('echo "ALI""VE $?"\r');
    await t.waitFor('ALIVE 130', { ms: 10_000 });
    t.type('exit 3\r');
    const r = await t.exited;
    expect(r.output).not.toContain('no job control');
    expect(r.status).toBe(3);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('stops the job with Ctrl-Z and resumes it with fg', async () => {
    ws = workspace(user);
    const t = fenceOnTerminal(ws, SHELL);
    const n = user === 'root' ? 2014 : 2114;
    t.type(`sleep ${n}\r`);
    await until(() => sleeping(n));
    t.type('\x1a');
    await until(() => sleeping(n, 'T'));
    await t.waitFor(new RegExp(`Stopped\\s+sleep ${n}`));
    await settle();
    t.type('fg\r');
    await until(() => sleeping(n));
    t.type('\x03');
    await until(() => !sleeping(n, 'S,T'));
    await settle();
    t.type('echo "D""ONE $?"; exit 5\r');
    const r = await t.exited;
    expect(r.output).toContain('DONE 130');
    expect(r.status).toBe(5);
  });

  it('lets a program read a key in raw mode without Enter', async () => {
    ws = workspace(user);
    const program = "import sys, tty; tty.setraw(0); print('RAW', flush=True); sys.stdout.write('got %r\\r\\n' % sys.stdin.read(1))";
    const t = fenceOnTerminal(ws, ['--', 'python3', '-c', program]);
    await t.waitFor('RAW');
    t.type('k');
    const r = await t.exited;
    expect(r.output).toContain("got 'k'");
    expect(r.status).toBe(0);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it.skipIf(!hasProgram('less'))('lets less act on q without Enter', async () => {
    ws = workspace(user);
    const file = join(ws.dir, 'page.txt');
    writeFileSync(file, 'a page for less\n');
    own(ws, file);
    const t = fenceOnTerminal(ws, ['--', 'less', 'page.txt']);
    await t.waitFor('a page for less');
    t.type('q');
    const r = await t.exited;
    expect(r.status).toBe(0);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('copies the window size at start and on every resize', async () => {
    ws = workspace(user);
    const script = 'trap "echo SIZE \\$(stty size)" WINCH; echo SIZE $(stty size); while :; do sleep 0.1; done';
    const t = fenceOnTerminal(ws, ['--', 'bash', '-c', script], { rows: 20, cols: 70 });
    await t.waitFor('SIZE 20 70');
    t.resize(33, 99);
    await t.waitFor('SIZE 33 99');
    t.resize(40, 120);
    await t.waitFor('SIZE 40 120');
    t.type('\x03');
    const r = await t.exited;
    expect(r.status).toBe(130);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('still refuses TIOCSTI on the terminal inside', async () => {
    ws = workspace(user);
    const program = [
      'import errno, fcntl, termios',
      'try:',
      "    fcntl.ioctl(0, termios.TIOCSTI, b'x'); print('INJECTED')",
      'except OSError as e:',
      "    print('refused', errno.errorcode[e.errno])",
    ].join('\n');
    const r = await fenceOnTerminal(ws, ['--', 'python3', '-c', program]).exited;
    expect(r.output).toContain('refused EPERM');
    expect(r.output).not.toContain('INJECTED');
  });

  it('sets the terminal back when the command is killed with SIGKILL', async () => {
    ws = workspace(user);
    const r = await fenceOnTerminal(ws, ['-c', `python3 -c "import tty; tty.setraw(0)"; echo RE''ADY; kill -9 $$`]).exited;
    expect(r.output).toContain('READY');
    expect(r.status).toBe(137);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it.each([
    ['SIGTERM', ['-c', `echo RE''ADY; exec sleep 20`], 143],
    ['SIGHUP', [...SHELL], 129],
  ] as const)('forwards %s to the command and sets the terminal back', async (signal, args, status) => {
    ws = workspace(user);
    const t = fenceOnTerminal(ws, args);
    if (args[0] === '--') t.type("echo RE''ADY\r");
    await t.waitFor('READY');
    await settle();
    process.kill(await t.pid, signal);
    const r = await t.exited;
    expect(r.status).toBe(status);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('does not forward a SIGINT sent to fence (Ctrl-C is a byte inside): fence ends, the terminal is set back', async () => {
    ws = workspace(user);
    const t = fenceOnTerminal(ws, ['-c', `echo RE''ADY; exec sleep 20`]);
    await t.waitFor('READY');
    process.kill(await t.pid, 'SIGINT');
    const r = await t.exited;
    expect(r.status).toBe(-2); // fence itself died of SIGINT; the sandbox died with it
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('sets the terminal back when the command cannot start', async () => {
    ws = workspace(user);
    const r = await fenceOnTerminal(ws, ['--', '/no/such/command']).exited;
    expect(r.output).toContain('/no/such/command: command not found');
    expect(r.status).toBe(127);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('says so when the native helper is missing, and passes the terminal as is', async () => {
    ws = workspace(user);
    const r = await fenceOnTerminal(ws, ['-c', 'tty; echo "O""K"'], { env: { FENCE_LAUNCH_PATH: '' } }).exited;
    expect(r.output).toContain('fence: warning: the command has no terminal of its own');
    expect(r.output).toContain('OK');
    expect(r.status).toBe(0);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });

  it('passes piped stdin as is, without a terminal inside', async () => {
    ws = workspace(user);
    const r = await fenceOnTerminal(ws, ['--', 'sh', '-c', 'cat; tty || true'], { pipeIn: 'piped line\n' }).exited;
    expect(r.output).toContain('piped line');
    expect(r.output).toContain('not a tty');
    expect(r.status).toBe(0);
    expect(r.sttyAfter).toBe(r.sttyBefore);
  });
});
