/**
 * The plan cache and the native fast path (issue 16): a run whose plan needs nothing of Node is
 * started by `fence-launch --fast` from the entry the previous identical run wrote, and only while
 * every input is unchanged. FENCE_FAST_PATH=explain makes both paths say what they did: the fast
 * path `fence: fast path: hit` or why it handed the run to Node, the CLI why it stored no plan.
 * A plan is stored only when its inputs are 2 s old (the racy rule), so each test waits once.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_BIN, fence, own, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';
import { EXPLAIN, fastLine, HIT, NODE, userStderr, warm } from '../src/plan-cache.js';

/** A bwrap that cannot create a network namespace (as warnings.test.ts): the run warns. */
function bwrapWithoutNetns(ws: Workspace): Record<string, string> {
  const bin = join(dirname(ws.dir), 'bin');
  mkdirSync(bin, { recursive: true });
  const script = `#!/bin/sh\ncase " $* " in *" --unshare-net "*) echo 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted' >&2; exit 1;; esac\nexec /usr/bin/bwrap "$@"\n`;
  writeFileSync(join(bin, 'bwrap'), script, { mode: 0o755 });
  return { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
}

/**
 * What an entry launches: the command's environment, the warnings, the wrappers' argv and their
 * descriptors (bwrap's arguments, the helper plan), without the inputs (a run that detects again
 * looks at more paths) and the expiry.
 */
function launchPart(entry: Buffer): Buffer {
  const start = entry.indexOf('\0set\0');
  const ends = ['\0entry\0', '\0full\0', '\0absent\0', '\0content\0'].map((t) => entry.indexOf(t, start)).filter((i) => i > 0);
  return entry.subarray(start, Math.min(...ends));
}

const planFiles = (ws: Workspace): string[] => readdirSync(join(ws.home, '.cache/fence/plan')).map((f) => join(ws.home, '.cache/fence/plan', f));

describe.each(USERS)('the plan cache and the native fast path (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('starts the second identical run from the cached plan, and the sandbox is the one Node builds', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    // The mounts (root, mount point, options), the process's confinement, the environment.
    for (const argv of [['cat', '/proc/self/mountinfo'], ['grep', '-E', '^(Seccomp|NoNewPrivs|CapEff|CapBnd)', '/proc/self/status'], ['printenv']]) {
      const fast = await fence(ws, ['--', ...argv], { env: EXPLAIN });
      const node = await fence(ws, ['--', ...argv], { env: NODE });
      expect(fast.stderr).toBe(HIT);
      const normal = (s: string) => (argv[0] === 'cat' ? s.split('\n').map((l) => l.split(' ').slice(3, 6).join(' ')) : s.split('\n').sort());
      expect(normal(fast.stdout)).toEqual(normal(node.stdout));
      expect([fast.status, node.status]).toEqual([0, 0]);
    }
  });

  it('runs, keeping no plan, where the home cannot hold a cache (HOME not a directory)', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'sh', '-c', 'echo ran'], { env: { ...EXPLAIN, HOME: '/dev/null' } });
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toMatch(/plan cache: not stored: cannot make \/dev\/null\/\.cache\/fence\/plan/);
    expect(r.status).toBe(0);
  });

  it('builds the same launch again when nothing changed (the Node path is deterministic)', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    const [file] = planFiles(ws);
    const first = launchPart(readFileSync(file!));
    await fence(ws, ['--', 'true'], { env: NODE });
    expect(launchPart(readFileSync(file!)).equals(first)).toBe(true);
    expect(first.length).toBeGreaterThan(100);
  });

  it('sees a changed setting: the next run builds a new plan, which the fast path then enforces', async () => {
    ws = workspace(user);
    const secret = join(ws.dir, 'notes.txt');
    writeFileSync(secret, 'visible\n');
    own(ws, secret);
    writeSettings(ws, {});
    await warm(ws, ['--', 'cat', 'notes.txt']);
    expect((await fence(ws, ['--', 'cat', 'notes.txt'], { env: EXPLAIN })).stdout).toBe('visible\n');
    writeSettings(ws, { filesystem: { denyRead: ['./notes.txt'] } });
    const changed = await fence(ws, ['--', 'cat', 'notes.txt'], { env: EXPLAIN });
    expect(fastLine(changed)).toMatch(/^fence: fast path: an input changed: /);
    expect(changed.stdout).toBe('');
    await sleep(2100);
    await fence(ws, ['--', 'true'], { env: NODE });
    const again = await fence(ws, ['--', 'cat', 'notes.txt'], { env: EXPLAIN });
    expect(fastLine(again)).toBe('fence: fast path: hit');
    expect(again.stdout).toBe('');
    expect(again.status).not.toBe(0);
  });

  it('sees a change in a file the settings extend', async () => {
    ws = workspace(user);
    const base = join(ws.dir, 'base.json');
    writeFileSync(base, JSON.stringify({ filesystem: { denyRead: [] } }));
    own(ws, base);
    writeSettings(ws, { extends: './base.json' });
    await warm(ws, ['--', 'true']);
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toBe('fence: fast path: hit');
    writeFileSync(base, JSON.stringify({ filesystem: { denyRead: ['./base.json'] } }));
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toMatch(/^fence: fast path: an input changed: /);
  });

  it('sees a new file under a glob (a changed tree) and hides it', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { denyRead: ['**/*.key'] } });
    const deep = join(ws.dir, 'a/b/c');
    mkdirSync(deep, { recursive: true });
    for (let d = deep; d !== ws.dir; d = dirname(d)) own(ws, d);
    await warm(ws, ['--', 'true']);
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toBe('fence: fast path: hit');
    const key = join(deep, 'new.key');
    writeFileSync(key, 'private\n');
    own(ws, key);
    const r = await fence(ws, ['--', 'cat', 'a/b/c/new.key'], { env: EXPLAIN });
    expect(fastLine(r)).toMatch(/^fence: fast path: an input changed: /);
    expect(r.stdout).toBe('');
  });

  it('sees a new protected file', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    writeFileSync(join(ws.dir, '.bashrc'), '# new\n');
    own(ws, join(ws.dir, '.bashrc'));
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toMatch(/^fence: fast path: an input changed: /);
  });

  it('sees another working directory, other arguments, another environment and another Fence build', async () => {
    ws = workspace(user);
    const sub = join(ws.dir, 'sub');
    mkdirSync(sub);
    own(ws, sub);
    await warm(ws, ['--', 'true']);
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toBe('fence: fast path: hit');
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN, cwd: sub }))).toBe('fence: fast path: no entry');
    expect(fastLine(await fence(ws, ['--strict', '--', 'true'], { env: EXPLAIN }))).toBe('fence: fast path: no entry');
    // A rebuilt bundle: its ctime moves even when its content and mtime stay.
    const bundle = resolve(dirname(FENCE_BIN), '../dist/fence.cjs');
    const st = statSync(bundle);
    utimesSync(bundle, st.atime, st.mtime);
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toMatch(/^fence: fast path: an input changed: /);
    // That run stored the plan again, with the new bundle.
    await sleep(2100);
    await fence(ws, ['--', 'true'], { env: NODE });
    expect(fastLine(await fence(ws, ['--', 'true'], { env: { ...EXPLAIN, SOME_TOKEN: 'x' } }))).toBe('fence: fast path: the environment changed');
  });

  it('hands to Node a command the command policy must see, and Node refuses it', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    const r = await fence(ws, ['--', '/usr/bin/sudo', 'true'], { env: EXPLAIN });
    expect(fastLine(r)).toBe('fence: fast path: the command policy must see this command');
    expect(r.stderr).toMatch(/sudo/);
    expect(r.status).toBe(1);
  });

  it('runs the command Node runs when a `--` follows the command (`fence echo -- hi` is `echo -- hi`)', async () => {
    ws = workspace(user);
    await warm(ws, ['echo', '--', 'hi']);
    const r = await fence(ws, ['echo', '--', 'hi'], { env: EXPLAIN });
    expect(fastLine(r)).not.toBe('fence: fast path: hit');
    expect([r.stdout, r.status]).toEqual(['-- hi\n', 0]);
  });

  it('never uses an entry that another user may write', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    const [file] = planFiles(ws);
    chmodSync(file!, 0o622);
    expect(fastLine(await fence(ws, ['--', 'true'], { env: EXPLAIN }))).toBe('fence: fast path: an entry this user does not own alone');
  });

  it('keeps the plan cache read-only inside the sandbox, even under a writable home', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: [ws.home] } });
    await fence(ws, ['--', 'true'], { env: NODE });
    const planted = join(ws.home, '.cache/fence/plan/planted.plan');
    const r = await fence(ws, ['--', 'python3', '-c', `open(${JSON.stringify(planted)}, "w").write("x")`], { env: NODE });
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.status).not.toBe(0);
  });

  it('keeps the default cache location read-only under another XDG_CACHE_HOME: no entry planted there starts the next run', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: [ws.home] } });
    const xdg = join(dirname(ws.home), 'xdg');
    mkdirSync(xdg);
    own(ws, xdg);
    // A forged entry for the next `fence -- …` here without XDG_CACHE_HOME: no inputs, `env` as its
    // only wrapper (the command would run outside any sandbox). The key is cwd and flags alone.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ws.home, LANG: 'C.UTF-8' };
    const words = ['FENCE-PLAN', '1', 'user', '@UID', '@GID', 'cwd', ws.dir, 'flags', '0', 'expires', '9999999999'];
    for (const [k, v] of Object.entries(env)) words.push('env', k, v);
    words.push('chdir', ws.dir, 'argv', '1', 'env', 'end');
    const plant = [
      'import os',
      `words = ${JSON.stringify(words)}`,
      'words = [str(os.getuid()) if w == "@UID" else str(os.getgid()) if w == "@GID" else w for w in words]',
      `d = ${JSON.stringify(join(ws.home, '.cache/fence/plan'))}`,
      'os.makedirs(d, mode=0o700, exist_ok=True); os.chmod(d, 0o700)',
      // The entry's name: FNV-1a (64 bits) of the working directory and the flags (entry.ts).
      `h = 0xcbf29ce484222325\nfor b in (${JSON.stringify(ws.dir)} + "\\0").encode(): h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff`,
      'p = os.path.join(d, "%016x.plan" % h)',
      'open(p, "wb").write(b"".join(w.encode() + b"\\0" for w in words)); os.chmod(p, 0o600)',
    ].join('\n');
    const r = await fence(ws, ['--', 'python3', '-c', plant], { env: { ...NODE, XDG_CACHE_HOME: xdg } });
    expect(r.stderr).toMatch(/Read-only file system/);
    const escaped = join(ws.dir, 'escaped');
    const next = await fence(ws, ['--', 'touch', escaped], { env: EXPLAIN });
    expect(fastLine(next)).not.toBe('fence: fast path: hit');
    expect(existsSync(escaped)).toBe(false);
  });
});

/** The same behaviours through both paths: what the user sees must not depend on the path. */
describe.each(USERS)('e2e behaviours through the fast path and through Node (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const probes: [string, string[]][] = [
    ['a write outside the working directory', ['touch', '/etc/fence-probe']],
    ['a read of a credential directory', ['ls', '../home/.ssh']],
    ['a direct TCP connection', ['python3', '-c', 'import socket; socket.create_connection(("127.0.0.1", 9), 2)']],
    ['a nested user namespace', ['unshare', '-U', 'true']],
    ['a missing program', ['no-such-program']],
    ['an exit status', ['python3', '-c', 'import sys; sys.exit(3)']],
  ];

  it.each(probes)('%s gives the same result', async (_name, argv) => {
    ws = workspace(user);
    mkdirSync(join(ws.home, '.ssh'));
    writeFileSync(join(ws.home, '.ssh/id_ed25519'), 'key\n');
    own(ws, join(ws.home, '.ssh'));
    await warm(ws, ['--', 'true']);
    const fast = await fence(ws, ['--', ...argv], { env: EXPLAIN });
    const node = await fence(ws, ['--', ...argv], { env: NODE });
    expect(fastLine(fast)).toBe('fence: fast path: hit');
    expect({ stdout: fast.stdout, stderr: userStderr(fast), status: fast.status }).toEqual({ stdout: node.stdout, stderr: node.stderr, status: node.status });
  });

  it('forwards SIGTERM to the command as Node does', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    // os.write, not print: a SIGTERM that comes while print is still flushing "ready" made the
    // handler's print a reentrant call (RuntimeError, exit 1).
    const script = 'import os, signal, time\nsignal.signal(signal.SIGTERM, lambda *a: (os.write(1, b"term\\n"), os._exit(7)))\nos.write(1, b"ready\\n")\ntime.sleep(30)';
    for (const env of [EXPLAIN, NODE]) {
      const r = await fence(ws, ['--', 'python3', '-c', script], {
        env,
        onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && child.kill('SIGTERM')),
      });
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: 'ready\nterm\n', status: 7 });
    }
  });

  // The fast path finds whether the sandbox's init takes the signal in /proc/<init>/status, after a
  // Groups line as long as the user's supplementary groups make it (hundreds in many directories):
  // read as the first 2 KiB, the signal went to bwrap, which ended the sandbox (143).
  it('forwards SIGTERM to the command as Node does for a user in hundreds of groups', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    const groups = Array.from({ length: 300 }, (_, i) => 1_000_000 + i);
    const script = 'import os, signal, time\nsignal.signal(signal.SIGTERM, lambda *a: (os.write(1, b"term\\n"), os._exit(7)))\nos.write(1, b"ready\\n")\ntime.sleep(30)';
    for (const env of [EXPLAIN, NODE]) {
      const r = await fence(ws, ['--', 'python3', '-c', script], {
        env,
        groups,
        onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && child.kill('SIGTERM')),
      });
      expect({ stdout: r.stdout, status: r.status, fast: fastLine(r) }).toEqual({ stdout: 'ready\nterm\n', status: 7, fast: env === EXPLAIN ? 'fence: fast path: hit' : undefined });
    }
  });

  it('replays the warnings of a degraded layer and of the settings on every run', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: ['./not-there'] } });
    const env = bwrapWithoutNetns(ws);
    await warm(ws, ['--', 'true'], env);
    const node = await fence(ws, ['--', 'true'], { env: { ...NODE, ...env } });
    const fast = await fence(ws, ['--', 'true'], { env: { ...EXPLAIN, ...env } });
    expect(fastLine(fast)).toBe('fence: fast path: hit');
    expect(node.stderr).toMatch(/no network namespace: UDP is not filtered/);
    expect(node.stderr).toMatch(/not-there" does not exist/);
    expect(userStderr(fast)).toBe(node.stderr);
  });
});
