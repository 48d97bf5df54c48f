import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

const until = async (what: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (what()) return true;
  return what();
};

/** Forks up to 200 sleepers, then prints how many forks succeeded and how many processes the sandbox holds. */
const FORK_LOOP = [
  'perl',
  '-e',
  'my $ok = 0; for (1..200) { my $p = fork; next unless defined $p; if ($p == 0) { sleep 20; exit 0 } $ok++ }' +
    ' opendir(my $d, "/proc"); my $live = grep { /^\\d+$/ } readdir $d; print "$ok $live\\n";',
];

const PER_USER = 'fence: warning: limits: limits.processes applies per user, not to the sandbox as a whole';

// As root the machines Fence is developed and tested on have cgroups (v1 hierarchies or v2 with
// controllers): there every limit must hold for the sandbox as a whole. uid 65534 cannot write a
// cgroup there, so it gets rlimits, a warning, and a refusal under --strict.
describe.each(USERS)('resource limits (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());
  const root = user === 'root';

  it('says which mechanism holds the limits', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--linux-features']);
    expect(r.stdout).toMatch(root ? /✓ Resource limits: cgroup v[12] \(processes, memoryMB, cpuSeconds\)/ : /○ Resource limits: rlimits \(processes, memoryMB, cpuSeconds\)/);
  });

  it.runIf(root)('keeps a fork loop at limits.processes for the whole sandbox, and says so', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { processes: 50 } });
    const r = await fence(ws, ['--', ...FORK_LOOP]);
    const [ok, live] = r.stdout.trim().split(' ').map(Number);
    // The init, perl and its children: never more than 50 (RLIMIT_NPROC would let root reach 200).
    expect(live).toBeLessThanOrEqual(50);
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(50);
    expect(r.stderr).toContain('fence: limits.processes: the sandbox reached its 50 processes; further forks failed');
    expect(r.status).toBe(0);
  });

  it('keeps the proxies answering a command that reached limits.processes before its first connection (a domain allowed or none)', async () => {
    ws = workspace(user);
    // The bridges' relay must not need a process at the first connection: the command may hold
    // the last one by then (as root the limit is a cgroup's; as uid 65534 RLIMIT_NPROC, counted
    // in the sandbox's own user namespace), and the bridges would be gone for the rest of the run.
    const script = `
import os, socket, time
kids = []
while len(kids) < 50:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
def ask():
    try:
        s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
        s.sendall(b"CONNECT blocked.example.org:443 HTTP/1.1\\r\\n\\r\\n")
        return s.recv(12).decode()
    except OSError as e:
        return type(e).__name__
print("at the limit:", len(kids) < 50, ask())
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
print("below it:", ask())`;
    for (const allowedDomains of [['example.com'], []]) {
      writeSettings(ws, { network: { allowedDomains }, limits: { processes: 8 } });
      const r = await fence(ws, ['--', 'python3', '-c', script]);
      expect(r.stdout, `allowedDomains ${JSON.stringify(allowedDomains)}`).toBe('at the limit: True HTTP/1.1 403\nbelow it: HTTP/1.1 403\n');
      expect(r.stderr).not.toContain('fence-launch');
      expect(r.status).toBe(0);
    }
  });

  it('refuses with the proxy\'s 403 every connection of a command that stays within limits.openFiles (the refusals\' relay is not bound by it)', async () => {
    ws = workspace(user);
    // No domain allowed: the proxy ports only refuse. 16 connections held open at once take the
    // command 19 descriptors of its 20; the relay that answers them needs 22.
    writeSettings(ws, { limits: { openFiles: 20 } });
    const script = `
import socket
conns = [socket.create_connection(("127.0.0.1", 3128), timeout=5) for _ in range(16)]
answers = []
for s in conns:
    try:
        s.sendall(b"CONNECT blocked.example.org:443 HTTP/1.1\\r\\n\\r\\n")
        answers.append(s.recv(12).decode() or "closed")
    except OSError as e:
        answers.append(type(e).__name__)
print(answers.count("HTTP/1.1 403"), sorted(set(answers)))`;
    const r = await fence(ws, ['--', 'python3', '-c', script]);
    expect(r.stdout).toBe("16 ['HTTP/1.1 403']\n");
    expect(r.status).toBe(0);
  });

  it.runIf(root)('stops 8 processes of 70 MB under limits.memoryMB 100, and says so', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { memoryMB: 100 } });
    const script = 'for (1..8) { unless (fork) { my $x = "x" x (70*1024*1024); sleep 5; exit 0 } } 1 while wait != -1; print "survived\\n"';
    const r = await fence(ws, ['--', 'perl', '-e', script]);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(137);
    expect(r.stderr).toContain('fence: limits.memoryMB: the sandbox used its 100 MB and was stopped');
  });

  it.runIf(root)('stops the sandbox at limits.cpuSeconds, however many processes share the CPU time', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { cpuSeconds: 1 } });
    const r = await fence(ws, ['--', 'sh', '-c', 'while :; do :; done & while :; do :; done']);
    expect(r.status).toBe(137);
    expect(r.stderr).toContain('fence: limits.cpuSeconds: the sandbox used 1 s of CPU time and was stopped');
  });

  it.runIf(root)('runs the command in a cgroup of its own, gone after the run, and keeps openFiles an rlimit', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { memoryMB: 256, processes: 500, cpuSeconds: 30, openFiles: 64 } });
    const r = await fence(ws, ['--strict', '-d', '--', 'bash', '-c', 'ulimit -v; ulimit -u; ulimit -t; ulimit -n; grep fence- /proc/self/cgroup']);
    expect(r.stderr).toMatch(/\[fence:bwrap\] limits: processes=500 → cgroup v[12], memoryMB=256 → cgroup v[12], cpuSeconds=30 → cgroup v[12], openFiles=64 → RLIMIT_NOFILE \(per process\)/);
    const [as, nproc, cpu, nofile, ...cgroups] = r.stdout.trim().split('\n');
    // The cgroup replaces the per-process rlimits: those stay as Fence found them.
    const host = spawnSync('bash', ['-c', 'ulimit -v; ulimit -u; ulimit -t'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect([as, nproc, cpu, nofile]).toEqual([...host, '64']);
    expect(cgroups.length).toBeGreaterThan(0);
    expect(r.stderr).not.toContain('warning');
    for (const line of cgroups) {
      const [, controllers, path] = line.split(':');
      const mounts = controllers === '' ? ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'] : [`/sys/fs/cgroup/${controllers}`];
      for (const m of mounts) expect(existsSync(`${m}${path}`), `${m}${path}`).toBe(false);
    }
  });

  it.runIf(root)('leaves no process and no cgroup behind when fence is killed with SIGKILL', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { processes: 20 } });
    const marker = `fence-e2e-limits-kill-${process.pid}`;
    let cgroups: string[] = [];
    const r = await fence(ws, ['--', 'bash', '-c', `grep fence- /proc/self/cgroup; echo ready; exec -a ${marker} sleep 60`], {
      onSpawn: (child) =>
        child.stdout?.on('data', (d: Buffer) => {
          const text = d.toString();
          cgroups.push(...text.split('\n').filter((l) => l.includes('fence-')));
          if (text.includes('ready')) process.kill(child.pid!, 'SIGKILL');
        }),
    });
    expect(r.signal).toBe('SIGKILL');
    cgroups = cgroups.map((l) => `/sys/fs/cgroup/${l.split(':')[1]}${l.split(':')[2]}`);
    expect(cgroups.length).toBeGreaterThan(0);
    expect(await until(() => spawnSync('pgrep', ['-f', marker]).status === 1)).toBe(true);
    expect(await until(() => cgroups.every((c) => !existsSync(c)))).toBe(true);
  });

  it.runIf(!root)('applies each limit as an rlimit of the command, and warns once that it is not sandbox-wide', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { memoryMB: 256, processes: 500, cpuSeconds: 30, openFiles: 64 } });
    const r = await fence(ws, ['-d', '--', 'bash', '-c', 'ulimit -v; ulimit -u; ulimit -t; ulimit -n']);
    expect(r.stdout).toBe(`${256 * 1024}\n500\n30\n64\n`);
    expect(r.stderr).toContain(
      '[fence:bwrap] limits: processes=500 → RLIMIT_NPROC (per user), memoryMB=256 → RLIMIT_AS (per process), cpuSeconds=30 → RLIMIT_CPU (per process), openFiles=64 → RLIMIT_NOFILE (per process)',
    );
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fence: warning: limits: '))).toEqual([
      `${PER_USER}; limits.memoryMB applies per process, not to the sandbox as a whole; limits.cpuSeconds applies per process, not to the sandbox as a whole; run as root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes fence …)`,
    ]);
  });

  it.runIf(!root)('refuses under --strict a limit that cannot hold for the whole sandbox, and runs nothing', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { processes: 50 } });
    const r = await fence(ws, ['--strict', '--', 'echo', 'ran']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'fence: --strict: limits.processes applies per user, not to the sandbox as a whole (no usable cgroup); run as root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes fence …), or remove limits.processes, or run without --strict\n',
    );
  });

  it('stops a command that runs past wallSeconds, and says so', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { wallSeconds: 1 } });
    // sleep 600 outlives the harness's own 30 s timeout: 143 can only come from the wall limit.
    const r = await fence(ws, ['--', 'sleep', '600']);
    expect(r.status).toBe(143);
    expect(r.stderr).toContain('fence: limits.wallSeconds: the command ran for 1 s and was stopped');
  });

  it('ends the whole sandbox at wallSeconds: a command named bwrap and a child that ignores SIGTERM included', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { wallSeconds: 1 } });
    const marker = `fence-e2e-wall-${process.pid}-${user}`;
    // The command renames itself `bwrap`, ignores SIGTERM, and leaves a SIGTERM-proof child behind.
    const inner = `trap "" TERM; (exec -a ${marker} sleep 600) & /tmp/bwrap -c "sleep 600; :"`;
    const r = await fence(ws, ['--', 'bash', '-c', `cp /bin/bash /tmp/bwrap && exec /tmp/bwrap -c '${inner}'`]);
    // Not the harness's SIGKILL after 30 s: the wall limit ended it (SIGKILL to the sandbox's init).
    expect(r.signal).toBeNull();
    expect(r.status).toBe(137);
    expect(r.stderr).toContain('fence: limits.wallSeconds: the command ran for 1 s and was stopped');
    expect(await until(() => spawnSync('pgrep', ['-f', marker]).status === 1)).toBe(true);
  });
});
