import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forwardToInit } from '../src/index.js';
import { skipReason } from './sandbox-helper.js';

/**
 * forwardToInit against a real PID namespace init (bwrap --as-pid-1): the kernel does not even
 * send an init a signal it neither handles nor blocks, so a signal must go to bwrap until the
 * helper, as init, holds it blocked for its signalfd.
 */
const BWRAP = ['--die-with-parent', '--unshare-pid', '--as-pid-1', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--info-fd', '3', '--'];

/** Starts `command` as the init of a new PID namespace; resolves once it printed `ready`. */
async function startInit(command: string[]) {
  const child = spawn('bwrap', [...BWRAP, ...command], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  let report = '';
  child.stdio[3]!.on('data', (d: Buffer) => (report += d.toString()));
  await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  const wrapper = { pid: child.pid!, report, reported: Promise.resolve(report) };
  const alive = () => {
    try {
      return readFileSync(`/proc/${child.pid}/status`, 'utf8').length > 0;
    } catch {
      return false;
    }
  };
  return { wrapper, exited, alive };
}

describe.skipIf(skipReason)('forwardToInit: signals for the helper as the sandbox init', () => {
  it('ends the sandbox through bwrap while the init has not blocked the signal (it would be dropped)', async () => {
    const init = await startInit(['sh', '-c', 'echo ready; exec sleep 30']);
    forwardToInit(init.wrapper, 'SIGTERM');
    const ended = await Promise.race([init.exited.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running'), 5000))]);
    if (init.alive()) process.kill(init.wrapper.pid, 'SIGKILL');
    expect(ended).toBe('ended');
  });

  it('gives the signal to the init once it holds it blocked, which then decides the exit', async () => {
    // Blocked and polled for, as the helper's signalfd does (sigwait would unblock it meanwhile).
    const script = 'import signal, sys, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])\nprint("ready", flush=True)\nwhile signal.SIGTERM not in signal.sigpending(): time.sleep(0.01)\nsys.exit(40)';
    const init = await startInit(['python3', '-c', script]);
    forwardToInit(init.wrapper, 'SIGTERM');
    expect(await init.exited).toBe(40);
  });
});
