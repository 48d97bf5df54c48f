/**
 * The per-user proxy service (service.ts, service-client.ts), started for real as a detached Node
 * process running the built plugin: one service per policy however many start it at once, the
 * proxies' own answers through its pinned sockets, its idle exit and SIGTERM, and the directory
 * and sockets it refuses.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicy, type Policy, type ProxyServiceOptions } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { throughDescriptor } from '../src/host-sockets.js';
import { leaseProxyService, serviceKey, type LeasedService } from '../src/service-client.js';
import { collect, connectUnix, sleep, tempDir } from './support.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const native = await addonWith<{ tryLock: (fd: number) => boolean }>('tryLock');
const tryLock = (fd: number) => native!.tryLock(fd);

const network = (allowedDomains: string[]): Policy['network'] =>
  loadPolicy({ cwd: '/', home: '/', env: {}, inline: { network: { allowedDomains } } }).policy.network;

let dir: ReturnType<typeof tempDir>;
const leases: LeasedService[] = [];

function options(idleMs = 60_000): ProxyServiceOptions {
  const serve = `const m = await import(${JSON.stringify(dist)}); process.exit(await m.serveProxies());`;
  return { root: join(dir.path, 'proxy'), command: [process.execPath, '--input-type=module', '-e', serve], build: 'test', idleMs };
}

async function lease(opts: ProxyServiceOptions, net: Policy['network']): Promise<LeasedService> {
  const l = await leaseProxyService(opts, net, tryLock);
  if (typeof l === 'string') throw new Error(l);
  leases.push(l);
  return l;
}

/** The pids of the services under `root` (each lock file names its holder). */
const pids = (root: string): number[] =>
  readdirSync(root)
    .filter((f) => f.endsWith('.lock'))
    .map((f) => Number(readFileSync(join(root, f), 'utf8')))
    .filter((p) => p > 0);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
  return !alive(pid);
}

afterEach(() => {
  for (const l of leases.splice(0)) l.release();
  if (existsSync(join(dir.path, 'proxy'))) for (const pid of pids(join(dir.path, 'proxy'))) if (alive(pid)) process.kill(pid, 'SIGTERM');
  dir.remove();
});

describe.runIf(native !== undefined)('the proxy service', { timeout: 30_000 }, () => {
  it('starts once for runs that ask at the same time, and answers with the proxies\' own refusal', async () => {
    dir = tempDir();
    const opts = options();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => lease(opts, network(['localhost']))));
    expect(new Set([a!.lease.ino, b!.lease.ino, c!.lease.ino]).size).toBe(1);
    expect(pids(opts.root)).toHaveLength(1);
    const s = await connectUnix(throughDescriptor(a!.http.fd));
    s.end('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
    const reply = (await collect(s)).toString();
    expect(reply).toMatch(/^HTTP\/1\.1 403 /);
    expect(reply).toContain('X-Fence-Reason: Connection blocked by network allowlist: not in network.allowedDomains\r\n');
  });

  it('gives another policy, and another build, another service', async () => {
    dir = tempDir();
    const a = await lease(options(), network(['localhost']));
    const b = await lease(options(), network(['localhost', 'example.org']));
    const c = await lease({ ...options(), build: 'other' }, network(['localhost']));
    expect(new Set([a.lease.path, b.lease.path, c.lease.path]).size).toBe(3);
    expect(serviceKey(network(['a']), 'x', 0)).not.toBe(serviceKey(network(['b']), 'x', 0));
  });

  it('exits once no run held a lease for its idle time, and on SIGTERM, leaving no socket; the next run starts a new one', async () => {
    dir = tempDir();
    const opts = options(300);
    const first = await lease(opts, network(['localhost']));
    const [pid] = pids(opts.root);
    await sleep(600);
    expect(alive(pid!)).toBe(true); // leased
    first.release();
    expect(await gone(pid!)).toBe(true);
    expect(readdirSync(opts.root).filter((f) => f.endsWith('.sock'))).toEqual([]);
    // Its lock file names no pid any more (one a later process may get).
    expect(pids(opts.root)).toEqual([]);
    const second = await lease(opts, network(['localhost']));
    const [next] = pids(opts.root);
    expect(next).not.toBe(pid);
    process.kill(next!, 'SIGTERM');
    expect(await gone(next!)).toBe(true);
    second.release();
    expect(readdirSync(opts.root).filter((f) => f.endsWith('.sock'))).toEqual([]);
    expect(pids(opts.root)).toEqual([]);
  });

  it('restarts a killed service (stale sockets of a SIGKILLed one are replaced, not used)', async () => {
    dir = tempDir();
    const opts = options();
    const first = await lease(opts, network(['localhost']));
    const [pid] = pids(opts.root);
    process.kill(pid!, 'SIGKILL');
    expect(await gone(pid!)).toBe(true);
    first.release();
    const second = await lease(opts, network(['localhost']));
    expect(pids(opts.root)).not.toContain(pid);
    const s = await connectUnix(throughDescriptor(second.http.fd));
    s.end('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect((await collect(s)).toString()).toMatch(/^HTTP\/1\.1 403 /);
  });

  it('uses no directory that is not this user\'s alone, nor a symlink to one', async () => {
    dir = tempDir();
    const opts = options();
    mkdirSync(opts.root, { mode: 0o755 });
    chmodSync(opts.root, 0o755);
    expect(await leaseProxyService(opts, network(['localhost']), tryLock)).toMatch(/is not this user's alone \(owner \d+, mode 755\)/);
    rmSync(opts.root, { recursive: true });
    mkdirSync(join(dir.path, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(dir.path, 'elsewhere'), opts.root);
    expect(await leaseProxyService(opts, network(['localhost']), tryLock)).toMatch(/is not a directory/);
    expect(readdirSync(join(dir.path, 'elsewhere'))).toEqual([]);
  });

  it('never uses a socket left at a service\'s path without a service: the service it starts replaces it', async () => {
    dir = tempDir();
    const opts = options();
    mkdirSync(opts.root, { mode: 0o700 });
    const prefix = join(opts.root, serviceKey(network(['localhost']), opts.build, process.getuid!()));
    // A plain file where the lease socket goes, and a listener that is not the service where the HTTP proxy's socket goes.
    const planted = createServer((c) => c.end('planted'));
    await new Promise<void>((r) => planted.listen(`${prefix}-http.sock`, r));
    const plantedIno = lstatSync(`${prefix}-http.sock`).ino;
    const l = await lease(opts, network(['localhost']));
    planted.close();
    expect(l.http.ino).not.toBe(plantedIno);
    const s = await connectUnix(throughDescriptor(l.http.fd));
    s.end('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect((await collect(s)).toString()).toMatch(/^HTTP\/1\.1 403 /);
  });
});
