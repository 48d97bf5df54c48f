/**
 * Finding the sandbox's PID namespace from the host pid of its outermost wrapper: the first
 * descendant whose PID namespace differs from ours (bwrap's child after clone(CLONE_NEWPID)).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PidNamespace {
  /** Device of the namespace file system (st_dev of /proc/<pid>/ns/pid), as the kernel names it. */
  readonly dev: number;
  /** Inode of the namespace (`pid:[INODE]`). */
  readonly inode: number;
}

/** The PID namespace of a host pid; undefined when the process is gone. */
export function pidNamespaceOf(pid: number | 'self'): PidNamespace | undefined {
  try {
    const st = statSync(`/proc/${pid}/ns/pid`);
    return { dev: st.dev, inode: st.ino };
  } catch {
    return undefined;
  }
}

/** Host pids whose parent is `pid`, by a scan of every process (kernels without CONFIG_PROC_CHILDREN). */
function scanChildren(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may hold spaces and parentheses: fields restart after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return children;
}

/**
 * Host pids whose parent is `pid`: its threads' `children` files, a few small reads instead of a
 * scan of every process on a busy host; the scan where the kernel has no such files.
 */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(`/proc/${pid}/task`) && !existsSync(`/proc/${pid}/task/${pid}/children`) ? scanChildren(pid) : [];
  }
}

function findOnce(rootPid: number, own: number): PidNamespace | undefined {
  const queue = [rootPid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const ns = pidNamespaceOf(pid);
    if (ns && ns.inode !== own) return ns;
    queue.push(...childrenOf(pid));
  }
  return undefined;
}

const POLL_MS = 2;

/**
 * Waits (bounded) until the wrapper has created the sandbox's PID namespace. Undefined when the
 * command ends first, or never gets a namespace of its own.
 */
export async function findSandboxPidNamespace(rootPid: number, timeoutMs = 3000): Promise<PidNamespace | undefined> {
  const own = pidNamespaceOf('self')?.inode;
  if (own === undefined) return undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = findOnce(rootPid, own);
    if (found || Date.now() > deadline || !pidNamespaceOf(rootPid)) return found;
    await sleep(POLL_MS);
  }
}
