/**
 * A run's side of the per-user proxy service (service.ts): finds the live service of this exact
 * network policy, or starts it, and holds a lease on it for the run.
 *
 * The service directory (KernelOptions.proxyService.root, in Fence's cache directory) must be a
 * real directory of this user that no one else can enter; every socket used must be a socket of
 * this user, opened O_PATH|O_NOFOLLOW and reached only through that descriptor. The key of a
 * service is a hash of the network policy (everything the proxies decide by), Fence's build and
 * the user, so a run never reaches a service of another policy. Starting is serialized by a lock
 * file the service holds for its life (flock): a second starter waits for the first one's service.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenedPath, Policy, ProxyServiceOptions } from '@fence/core';
import { throughDescriptor } from './host-sockets.js';
import { captureWanted } from './network-plan.js';
import { serviceSockets, type ServiceRequest } from './service.js';

const O_PATH = 0o10000000;
/** A service no run leased for this long exits (docs/performance.md). */
export const SERVICE_IDLE_MS = 60_000;
/** How long a run waits for a service to start (a cold Node start on a loaded machine). */
const START_TIMEOUT_MS = 20_000;
/** sockaddr_un's path: 108 bytes with the NUL. */
const MAX_SOCKET_PATH = 107;

export interface ServiceSocket extends OpenedPath {
  /** The O_PATH descriptor this process holds. */
  readonly fd: number;
}

/** A leased service: its sockets, pinned; release() ends the lease and closes them. */
export interface LeasedService {
  readonly http: ServiceSocket;
  readonly socks: ServiceSocket;
  readonly dns: ServiceSocket | undefined;
  readonly lease: OpenedPath;
  release(): void;
}

export type Locker = (fd: number) => boolean;

/** The key of a service: what makes two runs' proxies behave the same. */
export function serviceKey(network: Policy['network'], build: string, uid: number): string {
  return createHash('sha256').update(JSON.stringify({ network, build, uid })).digest('hex').slice(0, 32);
}

/** `path` as a socket of this user, opened O_PATH|O_NOFOLLOW; undefined when it is anything else. */
function pinSocket(path: string): ServiceSocket | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isSocket() || st.uid !== process.getuid!()) {
    closeSync(fd);
    return undefined;
  }
  return { fd, path, kind: 'socket', dev: st.dev, ino: st.ino };
}

/**
 * Connects to the lease socket and waits for the service's "ok"; the connection is the lease.
 * Undefined when no service answers; the service's reason when it refuses this process.
 */
async function takeLease(path: string): Promise<{ socket: Socket; opened: OpenedPath } | string | undefined> {
  const pinned = pinSocket(path);
  if (!pinned) return undefined;
  const { createConnection } = process.getBuiltinModule('node:net');
  try {
    const socket = createConnection({ path: throughDescriptor(pinned.fd) });
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const end = () => {
        clearTimeout(timer);
        resolve(got);
      };
      const timer = setTimeout(end, 2000);
      socket.on('error', end);
      socket.on('close', end);
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('\n')) end();
      });
    });
    if (answer !== 'ok\n') {
      socket.destroy();
      const refused = /^fence: refused: (.*)\n/.exec(answer);
      return refused ? `the proxy service refused this process: ${refused[1]}` : undefined;
    }
    socket.removeAllListeners('data');
    socket.on('error', () => undefined);
    // The lease must not keep the run's process alive by itself.
    socket.unref();
    return { socket, opened: { path, kind: 'socket', dev: pinned.dev, ino: pinned.ino } };
  } finally {
    closeSync(pinned.fd);
  }
}

/** Starts the service while this process holds its lock (`lockFd`); resolves once it is ready. */
async function startService(options: ProxyServiceOptions, request: ServiceRequest, lockFd: number): Promise<void> {
  const [program, ...args] = options.command;
  // No environment: the service serves later runs with other ones (their NODE_OPTIONS, their
  // secrets), and nothing in the key would tell them apart; the proxies read none.
  const child = spawn(program!, args, { detached: true, cwd: '/', env: {}, stdio: ['pipe', 'pipe', 'ignore', lockFd] });
  child.stdin!.end(JSON.stringify(request));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) clearTimeout(timer), resolve(true);
    });
    child.once('exit', () => (clearTimeout(timer), resolve(false)));
    child.once('error', () => (clearTimeout(timer), resolve(false)));
  });
  child.stdout!.destroy();
  child.unref();
  if (!ready) {
    child.kill('SIGTERM');
    throw new Error(`the proxy service did not start (${options.command.join(' ')})`);
  }
}

/** Why the directory cannot hold services, or undefined: a real directory of this user alone. */
function rootObstacle(root: string): string | undefined {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const st = lstatSync(root);
    if (!st.isDirectory()) return `${root} is not a directory`;
    if (st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) return `${root} is not this user's alone (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`;
    return undefined;
  } catch (e) {
    return `${root}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * The live service for `network` (started when there is none), leased; or why none can be used
 * (the run then starts its own proxies).
 */
export async function leaseProxyService(options: ProxyServiceOptions, network: Policy['network'], tryLock: Locker): Promise<LeasedService | string> {
  const obstacle = rootObstacle(options.root);
  if (obstacle) return obstacle;
  const uid = process.getuid!();
  const prefix = join(options.root, serviceKey(network, options.build, uid));
  const paths = serviceSockets(prefix);
  if (Buffer.byteLength(paths.socks) > MAX_SOCKET_PATH || Buffer.byteLength(paths.lease) > MAX_SOCKET_PATH) return `${options.root} is too long for a socket path`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lease: Awaited<ReturnType<typeof takeLease>>;
  while ((lease = await takeLease(paths.lease)) === undefined) {
    if (Date.now() > deadline) return 'the proxy service did not answer';
    let lockFd: number | undefined;
    try {
      lockFd = openSync(`${prefix}.lock`, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      const st = fstatSync(lockFd);
      if (!st.isFile() || st.uid !== uid) return `${prefix}.lock is not this user's file`;
      // Held by a service (alive, starting or stopping) or its starter: wait for it.
      if (!tryLock(lockFd)) await sleep(20);
      else await startService(options, { prefix, rules: network, idleMs: options.idleMs ?? SERVICE_IDLE_MS }, lockFd);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    } finally {
      if (lockFd !== undefined) closeSync(lockFd);
    }
  }
  if (typeof lease === 'string') return lease;
  const held = lease;
  const pinned = [pinSocket(paths.http), pinSocket(paths.socks), captureWanted(network) ? pinSocket(paths.dns) : undefined];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.socket.destroy();
    for (const p of pinned) if (p) closeSync(p.fd);
  };
  const [http, socks, dns] = pinned;
  if (!http || !socks || (captureWanted(network) && !dns)) {
    release();
    return 'the proxy service has no sockets';
  }
  return { http, socks, dns, lease: held.opened, release };
}
