/**
 * Signal delivery into the sandbox. bwrap does not forward signals, and killing it would only
 * SIGKILL the sandbox (--die-with-parent), so a forwarded signal goes to the command itself: the
 * first process below bwrap (host pid of bwrap → sandbox pid 1, also bwrap → the command) that is
 * not bwrap. SIGINT goes to the command's process group, as a terminal's Ctrl-C would (bwrap's
 * --new-session made the command a session and group leader); other signals go to the process.
 * Until the command exists (a signal during start-up), bwrap itself receives the signal.
 */
import { readFileSync } from 'node:fs';
import type { SignalStrategy } from '@fence/core';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The host pid of the sandboxed command below a bwrap process, if it runs already. */
export function commandPid(bwrapPid: number): number | undefined {
  let pid = bwrapPid;
  for (let hops = 0; hops < 4; hops++) {
    // The first child is the oldest: bwrap's init forks the command before anything else.
    const child = Number.parseInt(read(`/proc/${pid}/task/${pid}/children`)?.trim().split(/\s+/)[0] ?? '', 10);
    if (!Number.isInteger(child) || child <= 0) return undefined;
    if (read(`/proc/${child}/comm`)?.trim() !== 'bwrap') return child;
    pid = child;
  }
  return undefined;
}

export const forwardToCommand: SignalStrategy = (bwrapPid, signal) => {
  const pid = commandPid(bwrapPid);
  if (pid === undefined) {
    process.kill(bwrapPid, signal);
    return;
  }
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
