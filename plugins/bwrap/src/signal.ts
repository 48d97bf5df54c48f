/**
 * Signal delivery into the sandbox, by pid and by position, never by name (a command may call
 * itself anything, `bwrap` included). bwrap's --info-fd report names the sandbox's init (pid 1 of
 * its PID namespace). Without the helper as that init (forwardToInit), the command is the init's
 * first child (the init forks it before anything else; orphans adopted later come after it).
 * SIGKILL goes to the init, and the kernel then kills every process of the namespace. SIGINT goes
 * to the command's process group, as a terminal's Ctrl-C would (bwrap's --new-session made the
 * command a session and group leader); other signals go to the process. Until the command exists (a signal during start-up), bwrap itself receives
 * the signal, and the init is killed with it (toBwrap).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import type { SignalStrategy, WrapperProcess } from '@fence/core';

/** The host pid of the sandbox's init, from bwrap's --info-fd report (`"child-pid": N`). */
export function sandboxInit(report: string | undefined): number | undefined {
  const pid = Number(/"child-pid":\s*(\d+)/.exec(report ?? '')?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The host pid of the sandboxed command: the init's first child, if it runs already. */
export function commandPid(initPid: number): number | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8');
  } catch {
    return undefined;
  }
  const child = Number.parseInt(children.trim().split(/\s+/)[0] ?? '', 10);
  return Number.isInteger(child) && child > 0 ? child : undefined;
}

/** Signals whose default action does not end a process: bwrap outlives them. */
const NOT_ENDING: ReadonlySet<NodeJS.Signals> = new Set(['SIGCHLD', 'SIGCONT', 'SIGURG', 'SIGWINCH', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

/** Whether `pid` is (still) in the PID namespace bwrap's report names: its pid was not reused. */
function inSandbox(pid: number, report: string | undefined): boolean {
  const ns = /"pid-namespace":\s*(\d+)/.exec(report ?? '')?.[1];
  try {
    return ns !== undefined && readlinkSync(`/proc/${pid}/ns/pid`) === `pid:[${ns}]`;
  } catch {
    return false;
  }
}

/**
 * A signal before the sandbox takes it (its start-up) goes to bwrap, which it ends. The init goes
 * with bwrap by --die-with-parent only once it has set that: bwrap killed just after its report
 * (where a signal held until the report lands) left the sandbox running on as an orphan, its
 * command included. So the init, while it is the sandbox's, is killed too.
 */
function toBwrap(wrapper: WrapperProcess, signal: NodeJS.Signals): void {
  process.kill(wrapper.pid, signal);
  const init = sandboxInit(wrapper.report);
  if (!NOT_ENDING.has(signal) && init !== undefined && inSandbox(init, wrapper.report)) process.kill(init, 'SIGKILL');
}

/** Ends every process of the sandbox at once. */
export function killSandbox(wrapper: WrapperProcess): void {
  try {
    process.kill(sandboxInit(wrapper.report) ?? wrapper.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

export const forwardToCommand: SignalStrategy = (wrapper, signal) => {
  if (signal === 'SIGKILL') return killSandbox(wrapper);
  const init = sandboxInit(wrapper.report);
  const pid = init === undefined ? undefined : commandPid(init);
  if (pid === undefined) return toBwrap(wrapper, signal);
  if (signal === 'SIGINT') {
    try {
      process.kill(-pid, signal);
      return;
    } catch {
      /* not a group leader (yet): the process alone */
    }
  }
  process.kill(pid, signal);
};

/** Whether `pid` holds `signal` blocked (the SigBlk mask of /proc/<pid>/status). */
function blocks(pid: number, signal: NodeJS.Signals): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const mask = /\nSigBlk:\s*([0-9a-f]+)/.exec(status)?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(constants.signals[signal] - 1)) & 1n) === 1n;
}

/**
 * With the helper as the sandbox's init (bwrap --as-pid-1, the creation guard's layout): the
 * helper forwards to the command (SIGINT to its group) and reaps. A namespace's init is not even
 * sent a signal it has no handler for, so until the helper holds the signal blocked for its
 * signalfd (its start-up), bwrap receives it, as before the command exists.
 */
export const forwardToInit: SignalStrategy = (wrapper, signal) => {
  if (signal === 'SIGKILL') return killSandbox(wrapper);
  const init = sandboxInit(wrapper.report);
  try {
    if (init !== undefined && blocks(init, signal)) process.kill(init, signal);
    else toBwrap(wrapper, signal);
  } catch {
    /* already gone */
  }
};
