/** A helper process whose stdout is read line by line, and stopped gracefully. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LineProcess {
  readonly child: ChildProcess;
  /** Resolves when the process has exited and its output is fully read. */
  readonly closed: Promise<void>;
  /** Last lines of stderr, for error messages. */
  stderr(): string;
  /** Sends `signal`, then SIGKILL if it has not exited within `graceMs`; resolves on close. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export function spawnLines(argv: readonly string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): LineProcess {
  const [file, ...args] = argv;
  const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let errText = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    errText = (errText + d).slice(-2000);
  });
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', onLine);
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', (e) => {
      errText += e.message;
      resolve();
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    child,
    closed,
    stderr: () => errText.trim(),
    async stop(signal, graceMs) {
      if (running()) child.kill(signal);
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
