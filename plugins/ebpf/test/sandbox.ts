/** Real sandboxes for the monitor's tests: bwrap with its own PID namespace, read-only root. */
import { spawn, type ChildProcess } from 'node:child_process';
import { processProbe } from '@fence/core';
import { detectEbpf } from '../src/detect.js';
const which = (p: string) => processProbe.which(p);

export const bwrap = which('bwrap');

/** Why the eBPF tests cannot run here, or undefined. */
export async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root';
  if (!bwrap) return 'bwrap not installed';
  const a = await detectEbpf();
  return a.status === 'available' ? undefined : a.reason;
}

/** Runs `script` under sh in a new PID namespace, the root file system read-only. */
export function startSandbox(script: string): ChildProcess {
  return spawn(bwrap!, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--unshare-user', '--die-with-parent', '--', 'sh', '-c', script], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
}
