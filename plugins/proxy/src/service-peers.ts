/**
 * Who a proxy service (service.ts) serves: the processes of its own runs, and no one else, even a
 * sandbox of another policy that reaches its sockets through a second mount of the home.
 *
 * A run holds a lease (a connection to the lease socket) for its life. The process that connected
 * it, the run's Node or `fence-launch --fast` on the host, becomes a holder while that connection is
 * open; it must be a process of the service's own user and pid namespace, which no sandboxed
 * process is (bwrap gives each sandbox a pid namespace of its own). Every other connection (HTTP,
 * SOCKS5, DNS) is served only when the process that connected descends from a holder: the run's
 * bwrap, the sandbox's init and the in-sandbox bridges under it, and whatever that init adopted.
 *
 * Races: a process is known by its pid and its start time (/proc/<pid>/stat), so a holder's pid
 * reused by another process is no holder; a parent is read between two reads of its child that
 * both name it, so a parent that died (the child adopted, its pid free) is not taken for a later
 * process with its pid; the peer's pidfd (SO_PEERPIDFD, Linux 6.5) proves after the walk that the
 * pid it connected with was not reused meanwhile.
 */
import { closeSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fdOf } from './tunnel.js';

/** What the kernel recorded of the process that connected a Unix socket (the addon's peerCredentials). */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  /** A pidfd of that process, which the reader's caller closes; -1 when the kernel has none. */
  readonly pidfd: number;
}

export type PeerReader = (fd: number) => PeerCredentials;

export interface ServicePeers {
  /** Makes the peer of a lease connection a holder until `socket` closes; or why it may not be one. */
  lease(socket: Socket): string | undefined;
  /** Why the peer of a connection to a proxy socket is not served, or undefined when it descends from a holder. */
  refusal(socket: Socket): string | undefined;
}

interface ProcEntry {
  readonly ppid: number;
  /** Clock ticks after boot: with the pid, names one process for the life of the system. */
  readonly start: string;
}

/**
 * How far up from a peer the walk looks for a holder. A run's peers are its bridges, a few
 * generations below its holder (bwrap, the sandbox's init); a sandbox that reaches another
 * policy's sockets could otherwise make that service read /proc thousands of times per refused
 * connection, synchronously, with a deep chain of its own processes.
 */
const MAX_DEPTH = 32;

/** The parent and start time of `pid` in this process's pid namespace, or undefined once it is gone. */
export function procEntry(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2, the command name, may hold spaces and parentheses: fields 3… follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Whether `pid` lives in the pid namespace /proc shows (its NSpid has one entry), not in one below it. */
function inThisPidNamespace(pid: number): boolean {
  try {
    const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return nspid !== null && nspid[1]!.trim().split(/\s+/).length === 1;
  } catch {
    return false;
  }
}

/** Whether the pidfd's process is alive and still has `pid` (its fdinfo shows -1 once it is gone). */
function stillThere(pidfd: number, pid: number): boolean {
  try {
    return /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${pidfd}`, 'latin1'))?.[1] === String(pid);
  } catch {
    return false;
  }
}

const keyOf = (pid: number, e: ProcEntry): string => `${pid}@${e.start}`;

/** Whether `pid`, or one of its ancestors, is one of `holders`. */
function descends(pid: number, holders: ReadonlyMap<string, number>): boolean {
  let child = pid;
  let entry = procEntry(pid);
  for (let depth = 0; entry !== undefined && depth < MAX_DEPTH; depth++) {
    if (holders.has(keyOf(child, entry))) return true;
    if (entry.ppid <= 0) return false;
    const parent = procEntry(entry.ppid);
    const again = procEntry(child);
    // Still that child of that parent: the parent was alive, so the read was of that process.
    if (again?.ppid !== entry.ppid || again.start !== entry.start) return false;
    child = entry.ppid;
    entry = parent;
  }
  return false;
}

export function servicePeers(readPeer: PeerReader, uid: number = process.getuid!()): ServicePeers {
  const holders = new Map<string, number>();

  /** `judge(pid)` for the peer of `socket`, while that pid is provably the process that connected. */
  const withPeer = (socket: Socket, judge: (pid: number) => string | { key: string }): string | { key: string } => {
    let peer: PeerCredentials;
    try {
      peer = readPeer(fdOf(socket));
    } catch (e) {
      return `its credentials are unknown (${e instanceof Error ? e.message : String(e)})`;
    }
    try {
      if (peer.uid !== uid) return `its process runs as uid ${peer.uid}, not as the service's ${uid}`;
      if (peer.pid <= 0) return 'its process is not in the service\'s pid namespace';
      const verdict = judge(peer.pid);
      if (peer.pidfd >= 0 && !stillThere(peer.pidfd, peer.pid)) return 'its process exited';
      return verdict;
    } finally {
      if (peer.pidfd >= 0) closeSync(peer.pidfd);
    }
  };

  return {
    lease(socket) {
      const verdict = withPeer(socket, (pid) => {
        const entry = inThisPidNamespace(pid) ? procEntry(pid) : undefined;
        return entry ? { key: keyOf(pid, entry) } : 'its process is in another pid namespace than the service (a sandbox, a container)';
      });
      if (typeof verdict === 'string') return verdict;
      holders.set(verdict.key, (holders.get(verdict.key) ?? 0) + 1);
      socket.once('close', () => {
        const n = holders.get(verdict.key)! - 1;
        if (n > 0) holders.set(verdict.key, n);
        else holders.delete(verdict.key);
      });
      return undefined;
    },
    refusal(socket) {
      const verdict = withPeer(socket, (pid) => (descends(pid, holders) ? { key: '' } : 'its process is not one of a run holding a lease of this service'));
      return typeof verdict === 'string' ? verdict : undefined;
    },
  };
}
