/**
 * `-m`: every source reports the denials of a command that runs for a millisecond, every time;
 * nothing that was not refused is reported (clone3's fallback); uid 65534 sees seccomp denials;
 * a noisy host leaks nothing in. Sources a user cannot have are named at the start of -m.
 *
 * Landlock denials need the kernel's audit on. This machine, like most without auditd, has it
 * off: the tests that need it turn it on (as root) and put it back as it was afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_BIN, fence, USERS, userArgv, workspace, type User, type Workspace } from '../src/fence.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/monitor');
const LOOP = join(FIXTURES, 'loop.mjs');
const AUDIT_SET = join(FIXTURES, 'audit-set.py');
const RUNS = 100;
const python = '/usr/bin/python3';
const root = process.getuid?.() === 0;

/** Sets the kernel's audit on or off (root); returns what it was. */
function setAudit(on?: boolean): number {
  const r = spawnSync(python, [AUDIT_SET, ...(on === undefined ? [] : [on ? '1' : '0'])], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

/** Runs `fn` with the kernel's audit on, then puts it back as it was. */
async function withAudit<T>(fn: () => T | Promise<T>): Promise<T> {
  const was = setAudit(true);
  try {
    return await fn();
  } finally {
    if (was === 0) setAudit(false);
  }
}

/** A 1 ms command refused by Landlock alone: signalling the sandbox's init (outside its domain). */
const LANDLOCK_DENIAL = ['sh', '-c', 'kill -0 1 2>/dev/null; true'];

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

  // Root's runs are the three-source loop below (its seccomp denials included).
  it.skipIf(root && user === 'root')(`reports the seccomp denial of a 1 ms command in each of ${RUNS} runs`, { timeout: 180_000 }, () => {
    ws = workspace(user);
    // unshare(CLONE_NEWUSER) is refused by the filter (and answered by the supervisor) at once.
    const { counts, ms } = loop(ws, ['unshare', '--user', 'true']);
    expect(counts).toEqual({ seccomp: RUNS });
    console.log(`monitor e2e (${user}): ${RUNS} monitored runs of unshare in ${ms.toFixed(0)} ms`);
  });

  it.runIf(root && user === 'root')(`reports the seccomp, eBPF and Landlock denials of 1 ms commands in each of ${RUNS} runs (audit on)`, { timeout: 180_000 }, async () => {
    ws = workspace(user);
    // One sandbox start pays for the three sources; each takes its turn as the run's last denial,
    // the one the monitor's stop must not lose.
    const denials = ['unshare --user true', 'touch /etc/fence-e2e-monitor', 'kill -0 1'];
    const turns = denials.flatMap((_, i) => ['::', 'sh', '-c', `${[...denials.slice(i + 1), ...denials.slice(0, i + 1)].join(' 2>/dev/null; ')} 2>/dev/null; true`]).slice(1);
    const { counts, ms } = await withAudit(() => loop(ws, turns));
    expect(counts).toEqual({ seccomp: RUNS, ebpf: RUNS, landlock: RUNS });
    console.log(`monitor e2e (${user}): ${RUNS} monitored runs of three denials in ${ms.toFixed(0)} ms`);
  });

  it('says at its start that Landlock denials need the audit on, or root, before the command runs', async () => {
    ws = workspace(user);
    const run = () => fence(ws, ['-m', '--', ...LANDLOCK_DENIAL]);
    const features = async () => (await fence(ws, ['--linux-features'])).stdout;
    if (user === 'nobody') {
      expect(await features()).toMatch(/○ Audit: records not shown +-m shows no Landlock denials: reading the kernel's audit records needs root/);
      const r = await run();
      expect(r.stderr).toMatch(/^fence: -m does not show Landlock denials: reading the kernel's audit records needs root .*: run fence as root$/m);
      expect(r.stderr).toMatch(/fence: nothing was blocked/);
      return;
    }
    const was = setAudit();
    try {
      setAudit(false);
      expect(await features()).toMatch(/○ Audit: off +-m shows no Landlock denials: the kernel's audit is off/);
      const off = await run();
      expect(off.stderr).toMatch(/^fence: -m does not show Landlock denials: the kernel's audit is off \(turn it on: auditctl -e 1, from the auditd package, or boot with audit=1\)$/m);
      expect(off.stderr).toMatch(/fence: nothing was blocked/);
      // Turned on, the very next run sees it: the answer is never taken from the detection cache.
      setAudit(true);
      expect(await features()).toMatch(/✓ Audit: on, records read as they are emitted .* -m shows Landlock denials/);
      const on = await run();
      expect(on.stderr).not.toMatch(/-m does not show Landlock/);
      expect(on.stderr).toMatch(/\[fence:landlock\] \d\d:\d\d:\d\d ✗ pid \d+ \(fence-launch\): scope\.signal denied by Landlock \(sh, pid=\d+\)/);
      expect(on.stderr).toMatch(/fence: blocked 1 action \(landlock 1\)/);
    } finally {
      setAudit(was !== 0);
    }
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
    // Three sources for root (seccomp, eBPF, Landlock through the audit), interleaved; the pauses
    // are wider than the audit timestamps' millisecond, so the expected order is the real one.
    const steps = ['unshare --user true', 'touch /etc/fence-e2e-monitor', 'kill -0 1'];
    const script = `${[...steps, ...steps].join('; sleep 0.01; ')}; true`;
    const r = await (user === 'root' ? withAudit(() => fence(ws, ['-m', '--json', '-c', script])) : fence(ws, ['-m', '--json', '-c', script]));
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time?: string; source?: string; summary?: unknown });
    const events = lines.filter((l) => l.time);
    const times = events.map((l) => Date.parse(l.time!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const sources = user === 'root' ? ['seccomp', 'ebpf', 'landlock', 'seccomp', 'ebpf', 'landlock'] : ['seccomp', 'seccomp'];
    expect(events.map((l) => l.source)).toEqual(sources);
    const counts = Object.fromEntries([...new Set(sources)].map((s) => [s, sources.filter((x) => x === s).length]));
    expect(lines.at(-1)).toEqual({ summary: { blocked: sources.length, sources: counts, status: 0, unseen: expect.any(Array) } });
  });
});

describe.runIf(root)('fence -m on a noisy host', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('reports only the sandbox’s denials while host processes fail the same calls', async () => {
    ws = workspace('root');
    // Host processes failing traced syscalls with EACCES and EPERM, as fast as they can, and one
    // creating a new Landlock domain every few ms, refused a signal in it: each time a domain
    // allocation (its creator a host pid) and a denial in the audit records.
    const noise = [
      spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'while :; do touch /etc/fence-host-noise 2>/dev/null; mkdir /etc/fence-host-noise 2>/dev/null; done'], { stdio: 'ignore' }),
      spawn(python, [join(FIXTURES, 'landlock-noise.py')], { stdio: 'ignore' }),
    ];
    try {
      const r = await withAudit(() => fence(ws, ['-m', '--json', '-c', 'touch /etc/fence-e2e-monitor; kill -0 1; true']));
      const json = r.stderr.trim().split('\n').filter((l) => l.startsWith('{'));
      const events = json.map((l) => JSON.parse(l) as { source?: string; target?: string }).filter((l) => l.source);
      // Exactly the sandbox's two; both may carry the same millisecond, so their order is not asked.
      expect(events).toHaveLength(2);
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ source: 'ebpf', target: '/etc/fence-e2e-monitor' }),
          expect.objectContaining({ source: 'landlock', target: expect.stringMatching(/^pid \d+ \(fence-launch\)$/), process: 'bash' }),
        ]),
      );
    } finally {
      for (const n of noise) n.kill('SIGKILL');
    }
  });
});

describe.runIf(root)('fence -m inside a user namespace', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('reports eBPF as unavailable, and why, in the feature report and at the start of -m', async () => {
    ws = workspace('root');
    const run = (args: string[]) => spawnSync('unshare', ['-Ur', FENCE_BIN, ...args], { cwd: ws.dir, env: { PATH: process.env.PATH, HOME: ws.home }, encoding: 'utf8' });
    const features = run(['--linux-features']).stdout;
    expect(features).toMatch(/✗ eBPF: .*in a user namespace .*-m shows no file, exec or connect denials: Fence runs in a user namespace/);
    expect(features).toMatch(/○ Audit: records not shown +-m shows no Landlock denials: Fence runs in a user namespace/);
    const r = run(['-m', '--', 'unshare', '--user', 'true']);
    expect(r.stderr).toMatch(/^fence: -m does not show file, exec and connect denials: Fence runs in a user namespace/m);
    // The supervisor needs no privilege: the seccomp denial is still shown.
    expect(r.stderr).toMatch(/\[fence:seccomp\] .* unshare\(CLONE_NEWUSER\): Operation not permitted \(unshare, pid=\d+\)/);
  });
});
