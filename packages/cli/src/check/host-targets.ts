/**
 * What the attacks aim at on the host, each of which records what reached it: a directory outside
 * the private /tmp (visible, read-only, in the sandbox), a TCP and a UDP server and a Unix socket
 * server on 127.0.0.1 / in that directory, and a process to signal. Only 127.0.0.1 is ever used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';

/** The reply of the host Unix server: an attacker who reads it reached a host socket. */
export const HOST_SOCKET_REPLY = 'fence-check: host socket reached';

function listen(server: Server, target: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof target === 'string') server.listen(target, resolve);
    else server.listen(target, '127.0.0.1', resolve);
  });
}

export class HostTargets {
  /** Connections or datagrams received since the last reset(), by server. */
  readonly hits = { tcp: 0, udp: 0, unix: 0 };
  #victim: ChildProcess | undefined;

  private constructor(
    /** Outside /tmp, so the sandbox sees it (read-only unless the policy allows writes there). */
    readonly dir: string,
    private readonly tcp: Server,
    private readonly udp: UdpSocket,
    private readonly unix: Server,
  ) {}

  static async open(): Promise<HostTargets> {
    const dir = mkdtempSync('/var/tmp/fence-check-');
    const tcp = createServer((s) => void s.destroy());
    const unix = createServer((s) => void s.end(`${HOST_SOCKET_REPLY}\n`));
    const udp = createSocket('udp4');
    const targets = new HostTargets(dir, tcp, udp, unix);
    tcp.on('connection', () => void targets.hits.tcp++);
    unix.on('connection', () => void targets.hits.unix++);
    udp.on('message', () => void targets.hits.udp++);
    await Promise.all([listen(tcp, 0), listen(unix, targets.socketPath), new Promise<void>((r) => udp.bind(0, '127.0.0.1', r))]);
    return targets;
  }

  get socketPath(): string {
    return join(this.dir, 'host.sock');
  }

  get tcpPort(): number {
    return (this.tcp.address() as AddressInfo).port;
  }

  get udpPort(): number {
    return this.udp.address().port;
  }

  /** A fresh host process (sleep) for one attack; `victimDied` tells whether a signal reached it. */
  victimPid(): number {
    this.#victim?.kill('SIGKILL');
    this.#victim = spawn('sleep', ['60'], { stdio: 'ignore' });
    return this.#victim.pid ?? 0;
  }

  get victimDied(): boolean {
    return this.#victim !== undefined && (this.#victim.exitCode !== null || this.#victim.signalCode !== null);
  }

  /** Before each attack: nothing has reached anything yet. */
  reset(): void {
    this.hits.tcp = this.hits.udp = this.hits.unix = 0;
  }

  /** Lets the event loop take in what the attack sent (a datagram, a connection) before judging. */
  settle(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 50));
  }

  close(): void {
    this.#victim?.kill('SIGKILL');
    for (const s of [this.tcp, this.unix]) s.close();
    this.udp.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
