/**
 * The per-user proxy service (issue 16): the HTTP and SOCKS5 proxies, and the DNS decider when the
 * capture is on, of one network policy, in a process of their own that outlives the run which
 * started it. A later run with the same policy reaches them without Node: the plan cache's fast
 * path pins their sockets as the Node path does. The same proxy code as a run's own (no second
 * implementation); only the violations have no one to go to (the service is used only by runs
 * without -m, -d and --json, which show none).
 *
 * Started by service-client.ts as `<command> …` with the lock file on descriptor 3, which it holds
 * until it exits (so no second service of this policy starts, nor one while this one stops), and
 * its request on stdin. Its sockets are `<prefix>-http.sock`, `-socks.sock`, `-dns.sock` and
 * `-lease.sock`: every connection to the lease socket is a run using the service, answered "ok";
 * only a run's processes are served (service-peers.ts: a lease is taken on the host, every other
 * connection comes from a process under a lease's holder); the service exits once no run held a lease for `idleMs`, and on SIGTERM, removing its sockets.
 */
import { closeSync, ftruncateSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Policy } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { createDnsDecider } from './dns-decider.js';
import { createHttpProxy } from './http-proxy.js';
import type { ProxyServer, TunnelProxy } from './listener.js';
import { captureWanted } from './network-plan.js';
import { createSocksProxy } from './socks-proxy.js';
import { servicePeers, type PeerReader } from './service-peers.js';
import type { FdSender } from './tunnel.js';

/** What the starter sends on stdin (one JSON document). */
export interface ServiceRequest {
  readonly prefix: string;
  /** The run's network policy, which decides everything the proxies do. */
  readonly rules: Policy['network'];
  readonly idleMs: number;
}

/** The service's socket paths for a prefix. */
export const serviceSockets = (prefix: string) => ({
  http: `${prefix}-http.sock`,
  socks: `${prefix}-socks.sock`,
  dns: `${prefix}-dns.sock`,
  lease: `${prefix}-lease.sock`,
});

/** The service's lock descriptor (inherited from the starter). */
const LOCK_FD = 3;

/** O_CLOEXEC in /proc/self/fdinfo's octal `flags`. */
const O_CLOEXEC = 0o2000000;

/**
 * Closes what the starter's own caller left open without close-on-exec (a shell's `20>lock` held
 * by `flock`, a pipe a harness reads to its end): this process outlives the run by a minute and
 * must not hold them. Node's own descriptors, the standard ones and the lock are close-on-exec.
 */
function closeInherited(): void {
  for (const name of readdirSync('/proc/self/fdinfo')) {
    const fd = Number(name);
    if (fd <= LOCK_FD) continue;
    try {
      const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${name}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) closeSync(fd);
    } catch {
      // Gone meanwhile (the directory's own descriptor).
    }
  }
}

async function readRequest(): Promise<ServiceRequest> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return JSON.parse(text) as ServiceRequest;
}

/** Runs the service until it is idle or told to stop. Resolves when it stopped. */
export async function serveProxies(): Promise<number> {
  closeInherited();
  const addon = await addonWith<{ sendFd: FdSender; peerCredentials: PeerReader }>('sendFd', 'peerCredentials');
  // Without it the service cannot tell its runs' processes from others (service-peers.ts).
  if (!addon) throw new Error('the proxy service needs the @fence/native addon (peerCredentials, sendFd): build it');
  // Peers' pids are this pid namespace's; /proc must show that one to follow them.
  if (readlinkSync('/proc/self') !== String(process.pid)) throw new Error('/proc is not of the proxy service\'s pid namespace: mount the namespace\'s own procfs');
  const peers = servicePeers(addon.peerCredentials.bind(addon));
  const req = await readRequest();
  const paths = serviceSockets(req.prefix);
  // Whoever held the lock before is gone: what its sockets left is stale.
  for (const p of Object.values(paths)) rmSync(p, { force: true });
  // Who holds the lock, for whoever must stop it (kill by pid, never by name).
  ftruncateSync(LOCK_FD);
  writeSync(LOCK_FD, `${process.pid}\n`, 0);
  const common = { rules: req.rules };
  const listen = (path: string) => ({ path, refusal: (s: Socket) => peers.refusal(s) });
  const proxies: ProxyServer[] = [createHttpProxy({ ...common, listen: listen(paths.http) }), createSocksProxy({ ...common, listen: listen(paths.socks) })];
  if (captureWanted(req.rules)) proxies.push(createDnsDecider({ ...common, listen: listen(paths.dns) }));
  for (const p of proxies) await p.start();
  // The bridges are fence-launch's (the only way the service is used): tunnels go to them.
  for (const p of proxies.slice(0, 2)) (p as TunnelProxy).enableHandoff(addon.sendFd.bind(addon));

  const { createServer } = process.getBuiltinModule('node:net');
  let idle: NodeJS.Timeout | undefined;
  let stopping = false;
  let done: (status: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (done = resolve));
  const held = new Set<Socket>();
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // The lease socket first: from now on no run counts on this service (on SIGTERM, not even
    // those that hold a lease: their proxies refuse connections from now on).
    const closed = new Promise<void>((resolve) => lease.close(() => resolve()));
    for (const s of held) s.destroy();
    await closed;
    await Promise.all(proxies.map((p) => p.stop()));
    // The pid is soon another process's: no one may stop this service by it any more.
    ftruncateSync(LOCK_FD);
    done(0);
  };
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => void stop(), req.idleMs);
  };
  const lease: Server = createServer((socket: Socket) => {
    if (stopping) return socket.destroy();
    socket.on('error', () => socket.destroy());
    const refused = peers.lease(socket);
    // The one socket whose answer is a line: it says why (the proxies' sockets are closed unread).
    if (refused !== undefined) return void socket.end(`fence: refused: ${refused}\n`, () => socket.destroy());
    held.add(socket);
    clearTimeout(idle);
    socket.once('close', () => {
      held.delete(socket);
      if (held.size === 0 && !stopping) armIdle();
    });
    socket.resume();
    socket.write('ok\n');
  });
  await new Promise<void>((resolve, reject) => {
    lease.once('error', reject);
    lease.listen({ path: paths.lease, backlog: 4096 }, () => resolve());
  });
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  armIdle();
  // The starter stops reading once it is told: nothing else goes there.
  process.stdout.on('error', () => undefined);
  process.stdout.end('ready\n');
  return finished;
}
