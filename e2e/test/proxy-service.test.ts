/**
 * The per-user proxy service (issue 16): a run whose only host service is the proxies reaches
 * them in a service that outlives it, so the next identical run starts from the plan cache
 * without Node. What the command sees is the same on both paths; a dead service sends the run to
 * Node, which starts another; another policy gets another service; no sandbox sees, reaches or
 * changes a service.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fence, FENCE_BIN, hasProgram, own, proxyServicePids, userArgv, USERS, workspace, type Result, type Workspace } from '../src/fence.js';
import { EXPLAIN, fastLine, HIT, NODE, userStderr, warm } from '../src/plan-cache.js';
import { httpServer } from '../src/servers.js';

let server: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  server = await httpServer();
});
afterAll(() => server.close());

const serviceDir = (ws: Workspace): string => join(ws.home, '.cache/fence/proxy');
const servicePids = (ws: Workspace): number[] => proxyServicePids(ws.home);

/** The settings file for `-s` (allowing the local server's name), owned by the workspace's user. */
function settings(ws: Workspace, allowedDomains: string[], extra: object = {}): string {
  const file = join(ws.dir, 'net.json');
  writeFileSync(file, JSON.stringify({ network: { allowedDomains, allowLocalOutbound: true, ...extra } }));
  own(ws, file);
  return file;
}

const DATE = /^Date: .*\r\n/m;

describe.runIf(hasProgram('curl')).each(USERS)('the shared proxy service (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('serves the second run from the plan cache without Node, and the command sees what the Node path gives it', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await warm(ws, ['-s', s, '--', 'true']);
    // The allowed server, then a refused name (its whole answer, headers included).
    const run = async (env: Record<string, string>) => [
      await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', `http://localhost:${server.port}/`], { env }),
      await fence(ws, ['-s', s, '--', 'curl', '-sS', '-i', '--noproxy', '', 'http://blocked.example/'], { env }),
    ];
    const [fastAllowed, fastRefused] = await run(EXPLAIN);
    const [nodeAllowed, nodeRefused] = await run(NODE);
    for (const r of [fastAllowed!, fastRefused!]) expect(r.stderr).toBe(HIT);
    for (const r of [nodeAllowed!, nodeRefused!]) expect(r.stderr).toBe('');
    expect(fastAllowed!.stdout).toBe(`hello from localhost:${server.port}\n`);
    expect(nodeAllowed!.stdout).toBe(fastAllowed!.stdout);
    expect(fastRefused!.stdout).toMatch(/^HTTP\/1.1 403 Forbidden\r\n/);
    expect(fastRefused!.stdout).toContain('X-Fence-Reason: Connection blocked by network allowlist: not in network.allowedDomains\r\n');
    expect(fastRefused!.stdout.replace(DATE, '')).toBe(nodeRefused!.stdout.replace(DATE, ''));
    expect([fastAllowed, fastRefused, nodeAllowed, nodeRefused].map((r) => r!.status)).toEqual([0, 0, 0, 0]);
    expect(servicePids(ws)).toHaveLength(1);
  });

  it('gives a name the policy refuses no address through the DNS stub, on both paths', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await warm(ws, ['-s', s, '--', 'true']);
    const probe = ['python3', '-c', 'import socket\ntry:\n  socket.getaddrinfo("blocked.example", 80); print("resolved")\nexcept socket.gaierror as e: print("refused", e.errno)'];
    const fast = await fence(ws, ['-s', s, '--', ...probe], { env: EXPLAIN });
    const node = await fence(ws, ['-s', s, '--', ...probe], { env: NODE });
    expect(fastLine(fast)).toBe('fence: fast path: hit');
    expect(fast.stdout).toMatch(/^refused /);
    expect(fast.stdout).toBe(node.stdout);
  });

  it('starts a killed service again: the run after it works, through Node, and the one after is fast again', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await warm(ws, ['-s', s, '--', 'true']);
    const [pid] = servicePids(ws);
    process.kill(pid!, 'SIGKILL');
    while (existsSync(`/proc/${pid}`)) await sleep(20);
    const url = `http://localhost:${server.port}/`;
    const after = await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', url], { env: EXPLAIN });
    expect(fastLine(after)).toBe('fence: fast path: the proxy service is not running');
    expect(after.stdout).toBe(`hello from localhost:${server.port}\n`);
    expect(userStderr(after)).toBe('');
    const [again] = servicePids(ws);
    expect(again).not.toBe(pid);
    const fast = await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', url], { env: EXPLAIN });
    expect(fast.stderr).toBe(HIT);
    expect(fast.stdout).toBe(`hello from localhost:${server.port}\n`);
  });

  it('gives another allowedDomains another service, which refuses what the first allowed', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await warm(ws, ['-s', s, '--', 'true']);
    settings(ws, ['other.example']);
    const r: Result = await fence(ws, ['-s', s, '--', 'curl', '-sS', '-i', '--noproxy', '', `http://localhost:${server.port}/`], { env: EXPLAIN });
    expect(fastLine(r)).toMatch(/^fence: fast path: an input changed: /);
    expect(r.stdout).toContain('X-Fence-Reason: Connection blocked by network allowlist: not in network.allowedDomains\r\n');
    expect(servicePids(ws)).toHaveLength(2);
  });

  it('hides every service from the sandbox: none is listed, reached (allowUnixSockets naming one) or changed, even under a writable home', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await fence(ws, ['-s', s, '--', 'true'], { env: NODE });
    const dir = serviceDir(ws);
    const http = readdirSync(dir).find((f) => f.endsWith('-http.sock'))!;
    // Another policy: it names the first one's socket and may write the whole home.
    const attacker = settings(ws, ['localhost'], { allowUnixSockets: [join(dir, http)] });
    writeFileSync(attacker, JSON.stringify({ network: { allowedDomains: ['localhost'], allowLocalOutbound: true, allowUnixSockets: [join(dir, http)] }, filesystem: { allowWrite: [ws.home] } }));
    own(ws, attacker);
    const attack = [
      `ls -A ${dir}; echo "listed"`,
      `python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("${join(dir, http)}")' 2>/dev/null || echo "no connect"`,
      `rm -f ${dir}/* 2>/dev/null; touch ${dir}/planted.sock ${dir}/x.lock 2>/dev/null; mkdir -p ${ws.home}/.cache/fence/proxy2 2>/dev/null; echo done`,
    ].join('; ');
    const r = await fence(ws, ['-s', attacker, '--', 'sh', '-c', attack], { env: NODE });
    expect(r.stdout).toBe('listed\nno connect\ndone\n');
    // The host's directory is as the services left it.
    expect(readdirSync(dir)).toContain(http);
    expect(readdirSync(dir).filter((f) => f.startsWith('planted') || f === 'x.lock')).toEqual([]);
    const again = await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', `http://localhost:${server.port}/`], { env: NODE });
    expect(again.stdout).toBe(`hello from localhost:${server.port}\n`);
  });

  it('serves only its own runs: a sandbox of a policy allowing nothing, reaching another policy\'s sockets through a second mount of the home, gets nothing from any of them', async () => {
    ws = workspace(user);
    const url = `http://localhost:${server.port}/`;
    const a = settings(ws, ['localhost']);
    writeFileSync(a, JSON.stringify({ network: { allowedDomains: ['localhost'], allowLocalOutbound: true }, filesystem: { allowWrite: [ws.dir] } }));
    // A run of policy A holds its lease while the attack runs, then uses its proxies.
    const held = fence(ws, ['-s', a, '--', 'sh', '-c', `touch started; while [ ! -e done ]; do sleep 0.1; done; curl -sS --noproxy '' ${url}`], { env: NODE });
    while (!existsSync(join(ws.dir, 'started'))) await sleep(50);
    const b = join(ws.dir, 'attacker.json');
    writeFileSync(b, JSON.stringify({ network: { allowedDomains: [], allowAllUnixSockets: true } }));
    own(ws, b);
    const alias = join(ws.dir, 'alias');
    mkdirSync(alias);
    own(ws, alias);
    // Through the second mount it takes a lease of A (held while it asks), then asks every socket.
    const attack = [
      'import os, socket, sys',
      'd = sys.argv[1]',
      'ask = {"lease": b"", "http": b"GET ' + url + ' HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n", "socks": b"\\x05\\x01\\x00", "dns": b"localhost\\n"}',
      'held = []',
      'for kind in ["lease", "http", "socks", "dns"]:',
      '  name = next(n for n in os.listdir(d) if n.endswith("-" + kind + ".sock"))',
      '  s = socket.socket(socket.AF_UNIX); s.settimeout(5); held.append(s)',
      '  try:',
      '    s.connect(os.path.join(d, name)); s.sendall(ask[kind]) if ask[kind] else None; got = s.recv(200)',
      '  except ConnectionError: got = b""',
      '  except socket.timeout: got = b"no answer"',
      '  print(kind + ": " + (got.decode("latin1").splitlines() or ["closed"])[0])',
    ].join('\n');
    const r = await fence(ws, ['-s', b, '--', 'python3', '-c', attack, join(alias, '.cache/fence/proxy')], { env: NODE, secondMount: { from: ws.home, at: alias } });
    expect(r.stdout).toMatch(/^lease: fence: refused: /);
    expect(r.stdout.split('\n').slice(1).join('\n')).toBe('http: closed\nsocks: closed\ndns: closed\n');
    writeFileSync(join(ws.dir, 'done'), '');
    expect((await held).stdout).toBe(`hello from localhost:${server.port}\n`);
    const again = await fence(ws, ['-s', a, '--', 'curl', '-sS', '--noproxy', '', url], { env: NODE });
    expect(again.stdout).toBe(`hello from localhost:${server.port}\n`);
  });

  it('gives a run in another pid namespace (a container sharing the home) no lease: it says why and starts its own proxies at once', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await fence(ws, ['-s', s, '--', 'true'], { env: NODE });
    const url = `http://localhost:${server.port}/`;
    const r = await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', url], { env: { FENCE_FAST_PATH: 'explained' }, pidNamespace: true });
    expect(r.stdout).toBe(`hello from localhost:${server.port}\n`);
    expect(r.stderr).toMatch(/^fence: plan cache: not stored: the proxy service could not be used: the proxy service refused this process: its process is in another pid namespace than the service/m);
    expect(servicePids(ws)).toHaveLength(1);
  });

  it('keeps none of its starter\'s descriptors: a lock the caller held on fd 20 is free once the run is over', () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    const lock = join(ws.dir, 'job.lock');
    writeFileSync(lock, '');
    own(ws, lock);
    // The usual shell idiom: the lock is held on a descriptor the shell's children inherit.
    const script = '( flock 20; "$0" -s "$1" -- true ) 20>"$2"; flock -n "$2" echo free || echo "still locked"';
    const [cmd, ...args] = userArgv(user, ['bash', '-c', script, FENCE_BIN, s, lock]);
    const r = spawnSync(cmd!, args, { cwd: ws.dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ws.home, LANG: 'C.UTF-8', FENCE_FAST_PATH: '0' } });
    expect(servicePids(ws)).toHaveLength(1);
    expect(r.stdout).toBe('free\n');
  });

  it('keeps none of its starter\'s environment: not the caller\'s secrets, nor its NODE_OPTIONS, which a later run with another environment would get', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await fence(ws, ['-s', s, '--', 'true'], { env: { ...NODE, FENCE_E2E_SECRET: 'hunter2', NODE_OPTIONS: '--no-deprecation' } });
    const [pid] = servicePids(ws);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => v.startsWith('FENCE_E2E_SECRET=') || v.startsWith('NODE_OPTIONS='))).toEqual([]);
  });

  it('uses no service directory another user could enter: the run starts its own proxies and stores no plan', async () => {
    ws = workspace(user);
    const s = settings(ws, ['localhost']);
    await fence(ws, ['-s', s, '--', 'true'], { env: NODE });
    for (const pid of servicePids(ws)) process.kill(pid, 'SIGTERM');
    chmodSync(serviceDir(ws), 0o755);
    await sleep(2100);
    const r = await fence(ws, ['-s', s, '--', 'curl', '-sS', '--noproxy', '', `http://localhost:${server.port}/`], { env: { FENCE_FAST_PATH: 'explained' } });
    expect(r.stdout).toBe(`hello from localhost:${server.port}\n`);
    expect(r.stderr).toMatch(/^fence: plan cache: not stored: host services \(http-proxy, socks-proxy/m);
  });
});
