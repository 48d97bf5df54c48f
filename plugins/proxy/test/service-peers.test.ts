/**
 * The proxy service's check of who connects (service-peers.ts), with real processes: a lease
 * server and a proxy socket in this process answer what the check says, and python3 processes
 * take leases, start children, drop their lease, leave their parent or enter a pid namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonWith } from '@fence/linux-helper';
import { servicePeers, type PeerReader } from '../src/service-peers.js';
import { tempDir } from './support.js';

const native = await addonWith<{ peerCredentials: PeerReader }>('peerCredentials');

/**
 * `ask PATH`: prints the first line the socket answers. `hold LEASE STEP…`: takes a lease, prints
 * its answer, runs `STEP…` in a child. `release LEASE STEP…`: the same, but closes the lease and
 * waits for a line on stdin (the service saw it close) first. `orphan STEP…`: runs `STEP…` in a
 * grandchild once its parent has exited (it is adopted). `pidns STEP…`: runs it as the init of a
 * new pid namespace, as bwrap does. `deep N STEP…`: runs it N generations below (each parent waits).
 */
const PEER = `
import os, socket, subprocess, sys
def ask(path):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    return s, s.makefile().readline().strip()
def step(argv):
    subprocess.run([sys.executable, sys.argv[0]] + argv, check=True)
cmd, rest = sys.argv[1], sys.argv[2:]
if cmd == 'ask':
    print(ask(rest[0])[1], flush=True)
elif cmd in ('hold', 'release'):
    lease, answer = ask(rest[0]); print(answer, flush=True)
    if cmd == 'release':
        lease.sendall(b'%d' % os.getpid()); lease.close(); sys.stdin.readline()
    step(rest[1:])
elif cmd == 'orphan':
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        parent = os.getpid()
        if os.fork() == 0:
            while os.getppid() == parent: pass
            os.dup2(w, 1); step(rest); os._exit(0)
        os._exit(0)
    os.close(w)
    print(os.read(r, 4096).decode().strip(), flush=True)
elif cmd == 'deep':
    for _ in range(int(rest[0])):
        child = os.fork()
        if child != 0:
            os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    step(rest[1:])
elif cmd == 'pidns':
    subprocess.run(['unshare', '--user', '--map-root-user', '--pid', '--fork', sys.executable, sys.argv[0]] + rest, check=True)
`;

const canUnshare = spawnSync('unshare', ['--user', '--map-root-user', '--pid', '--fork', 'true']).status === 0;

let dir: ReturnType<typeof tempDir>;
let servers: Server[] = [];
let leasePath: string;
let proxyPath: string;
let script: string;
/** Called with what a lease connection sent (a releasing holder's pid) once the service saw it close. */
let onLeaseClosed: (sent: string) => void = () => undefined;

function listen(path: string, answer: (socket: Socket) => string): Promise<void> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write(`${answer(socket)}\n`);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(path, resolve));
}

beforeAll(async () => {
  if (!native) return;
  dir = tempDir();
  leasePath = join(dir.path, 'lease.sock');
  proxyPath = join(dir.path, 'http.sock');
  script = join(dir.path, 'peer.py');
  writeFileSync(script, PEER);
  const peers = servicePeers(native.peerCredentials.bind(native));
  await listen(leasePath, (socket) => {
    const refused = peers.lease(socket);
    let sent = '';
    socket.setEncoding('latin1').on('data', (d: string) => (sent += d));
    // After the check's own listener: the holder is gone by then.
    socket.once('close', () => onLeaseClosed(sent));
    return refused === undefined ? 'ok' : `refused: ${refused}`;
  });
  await listen(proxyPath, (socket) => {
    const refused = peers.refusal(socket);
    return refused === undefined ? 'served' : `refused: ${refused}`;
  });
});

afterAll(() => {
  for (const s of servers) s.close();
  servers = [];
  dir?.remove();
});

/** Runs the peer script with `args`; resolves with its output lines. */
function peer(...args: string[]): Promise<string[]> {
  const child = spawn('python3', [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  onLeaseClosed = (sent) => void (sent === String(child.pid) && child.stdin.write('go\n'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) => child.on('close', () => resolve(out.trim().split('\n'))));
}

const NOT_A_RUN = 'refused: its process is not one of a run holding a lease of this service';

describe.runIf(native)('who the proxy service serves', { timeout: 20_000 }, () => {
  it('serves a child of a lease holder', async () => {
    expect(await peer('hold', leasePath, 'ask', proxyPath)).toEqual(['ok', 'served']);
  });

  it('refuses a process that holds no lease and descends from none', async () => {
    expect(await peer('ask', proxyPath)).toEqual([NOT_A_RUN]);
  });

  it('refuses a child of a process whose lease is closed', async () => {
    expect(await peer('release', leasePath, 'ask', proxyPath)).toEqual(['ok', NOT_A_RUN]);
  });

  it('refuses a process that left the run: adopted once its parent exited, it descends from no holder', async () => {
    expect(await peer('hold', leasePath, 'orphan', 'ask', proxyPath)).toEqual(['ok', NOT_A_RUN]);
  });

  it('serves a process a few generations below a holder (the bridges under bwrap and the sandbox\'s init)', async () => {
    expect(await peer('hold', leasePath, 'deep', '8', 'ask', proxyPath)).toEqual(['ok', 'served']);
  });

  it('stops the walk 32 generations up: a deep process tree costs a refused peer\'s service no more reads than that', async () => {
    expect(await peer('hold', leasePath, 'deep', '40', 'ask', proxyPath)).toEqual(['ok', NOT_A_RUN]);
  });

  it.runIf(canUnshare)('serves a process adopted by the init of a pid namespace under the holder (a daemon in the sandbox)', async () => {
    expect(await peer('hold', leasePath, 'pidns', 'orphan', 'ask', proxyPath)).toEqual(['ok', 'served']);
  });

  it.runIf(canUnshare)('gives no lease to a process in another pid namespace (a sandbox), nor serves its children', async () => {
    expect(await peer('pidns', 'hold', leasePath, 'ask', proxyPath)).toEqual([
      'refused: its process is in another pid namespace than the service (a sandbox, a container)',
      NOT_A_RUN,
    ]);
  });
});

if (!canUnshare) console.warn('service-peers.test: unshare --user --pid is not allowed here; the pid namespace cases are skipped');
