/**
 * `-m`: every source reports the denials of a command that runs for a millisecond, every time;
 * nothing that was not refused is reported (clone3's fallback); uid 65534 sees seccomp denials;
 * a noisy host leaks nothing in. Sources a user cannot have are named at the start of -m.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_BIN, fence, USERS, userArgv, workspace, type User, type Workspace } from '../src/fence.js';

const LOOP = join(import.meta.dirname, '../fixtures/monitor/loop.mjs');
const RUNS = 100;
const python = '/usr/bin/python3';
const root = process.getuid?.() === 0;

/** Runs `argv` RUNS times in one monitored library session as `user`; the blocked counts. */
function loop(ws: Workspace, argv: readonly string[]): { counts: Record<string, number>; ms: number } {
  const [cmd, ...args] = userArgv(ws.user, [process.execPath, LOOP, String(RUNS), ...argv]);
  const r = spawnSync(cmd!, args, { cwd: ws.dir, env: { PATH: process.env.PATH, HOME: ws.home }, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.each(USERS)('fence -m as %s', (user: User) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it(`reports the seccomp denial of a 1 ms command in each of ${RUNS} runs`, { timeout: 180_000 }, () => {
    ws = workspace(user);
    // unshare(CLONE_NEWUSER) is refused by the filter (and answered by the supervisor) at once.
    const { counts, ms } = loop(ws, ['unshare', '--user', 'true']);
    expect(counts).toEqual({ seccomp: RUNS });
    console.log(`monitor e2e (${user}): ${RUNS} monitored runs of unshare in ${ms.toFixed(0)} ms`);
  });

  it.runIf(root && user === 'root')(`reports the eBPF denial of a 1 ms command in each of ${RUNS} runs`, { timeout: 180_000 }, () => {
    ws = workspace(user);
    expect(loop(ws, ['touch', '/etc/fence-e2e-monitor']).counts).toEqual({ ebpf: RUNS });
  });

  it('names each denial with its process, pid and decoded call', async () => {
    ws = workspace(user);
    const ptrace = `${python} -c "import ctypes; ctypes.CDLL(None).syscall(101, 16, 1, 0, 0)"`;
    const r = await fence(ws, ['-m', '-c', `touch /etc/fence-e2e-monitor; ${ptrace}`]);
    expect(r.stderr).toMatch(/\[fence:seccomp\] \d\d:\d\d:\d\d ✗ ptrace\(PTRACE_ATTACH, pid 1\): Operation not permitted \(python3, pid=\d+\)/);
    if (user === 'root') {
      expect(r.stderr).toMatch(/\[fence:ebpf\] \d\d:\d\d:\d\d ✗ open: Read-only file system \(touch, pid=\d+\)/);
      expect(r.stderr).toMatch(/fence: blocked 2 actions \((ebpf 1, seccomp 1|seccomp 1, ebpf 1)\)/);
    } else {
      // What uid 65534 cannot see is said once, before the command runs, with how to get it.
      expect(r.stderr).toMatch(/^fence: -m does not show file, exec and connect denials: .*run fence as root$/m);
      expect(r.stderr.indexOf('-m does not show')).toBeLessThan(r.stderr.indexOf('touch:'));
      expect(r.stderr).toMatch(/fence: blocked 1 action \(seccomp 1\)/);
    }
  });

  it('reports nothing for clone3, which libc retries as clone', async () => {
    ws = workspace(user);
    const threads = `${python} -c "import threading; t = threading.Thread(target=print); t.start(); t.join()"`;
    const r = await fence(ws, ['-m', '--json', '-c', threads]);
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ summary: { blocked: 0, sources: {}, status: 0 } });
    expect(lines.filter((l) => 'source' in l)).toEqual([]);
  });

  it('prints --json events in time order and ends with the summary', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-m', '--json', '-c', 'unshare --user true; touch /etc/fence-e2e-monitor; unshare --user true; true']);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time?: string; summary?: unknown });
    const times = lines.filter((l) => l.time).map((l) => Date.parse(l.time!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.length).toBe(user === 'root' ? 3 : 2);
    expect(lines.at(-1)).toHaveProperty('summary');
  });
});

describe.runIf(root)('fence -m on a noisy host', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('reports only the sandbox’s denials while host processes fail the same calls', async () => {
    ws = workspace('root');
    // Host processes failing traced syscalls with EACCES and EPERM, as fast as they can.
    const noise = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'while :; do touch /etc/fence-host-noise 2>/dev/null; mkdir /etc/fence-host-noise 2>/dev/null; done'], { stdio: 'ignore' });
    try {
      const r = await fence(ws, ['-m', '--json', '-c', 'touch /etc/fence-e2e-monitor; true']);
      const json = r.stderr.trim().split('\n').filter((l) => l.startsWith('{'));
      const events = json.map((l) => JSON.parse(l) as { source?: string; target?: string }).filter((l) => l.source);
      expect(events).toEqual([expect.objectContaining({ source: 'ebpf', target: '/etc/fence-e2e-monitor' })]);
    } finally {
      noise.kill('SIGKILL');
    }
  });
});

describe.runIf(root)('fence -m inside a user namespace', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('reports eBPF as unavailable, and why, in the feature report and at the start of -m', async () => {
    ws = workspace('root');
    const run = (args: string[]) => spawnSync('unshare', ['-Ur', FENCE_BIN, ...args], { cwd: ws.dir, env: { PATH: process.env.PATH, HOME: ws.home }, encoding: 'utf8' });
    expect(run(['--linux-features']).stdout).toMatch(/✗ eBPF: .*in a user namespace .*-m shows no file, exec or connect denials: Fence runs in a user namespace/);
    const r = run(['-m', '--', 'unshare', '--user', 'true']);
    expect(r.stderr).toMatch(/^fence: -m does not show file, exec and connect denials: Fence runs in a user namespace/m);
    // The supervisor needs no privilege: the seccomp denial is still shown.
    expect(r.stderr).toMatch(/\[fence:seccomp\] .* unshare\(CLONE_NEWUSER\): Operation not permitted \(unshare, pid=\d+\)/);
  });
});
