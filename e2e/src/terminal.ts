/**
 * Runs the real `fence` on a real pseudo-terminal (terminal-driver.py, Python's pty module), as a
 * user sits at one: fence is the session leader of that terminal and its foreground process group.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FENCE_BIN, userArgv, type Workspace } from './fence.js';

const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'terminal-driver.py');

export interface TerminalExit {
  /** fence's exit status (negative: killed by that signal). */
  readonly status: number;
  /** `stty -g` of the terminal before fence started and after it exited. */
  readonly sttyBefore: string;
  readonly sttyAfter: string;
  readonly output: string;
}

export interface TerminalRun {
  /** Everything fence wrote to the terminal so far. */
  output(): string;
  /** Types bytes, as a keyboard would (no newline added; Enter is "\r"). */
  type(keys: string): void;
  /** Resizes the window: the kernel sends SIGWINCH to fence, the terminal's foreground. */
  resize(rows: number, cols: number): void;
  /** Resolves once the output (from `from` on) matches; rejects with the output after `ms`. */
  waitFor(pattern: string | RegExp, options?: { ms?: number; from?: number }): Promise<void>;
  /** fence's pid on the host. */
  readonly pid: Promise<number>;
  readonly exited: Promise<TerminalExit>;
}

export interface TerminalOptions {
  readonly rows?: number;
  readonly cols?: number;
  /** fence's stdin is then a pipe with this text (stdout and stderr stay the terminal). */
  readonly pipeIn?: string;
  readonly env?: Record<string, string>;
}

export function fenceOnTerminal(ws: Workspace, args: readonly string[], opts: TerminalOptions = {}): TerminalRun {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ws.home, LANG: 'C.UTF-8', TERM: 'xterm', ...opts.env };
  const fenceArgv = userArgv(ws.user, [FENCE_BIN, ...args]);
  const argv = opts.pipeIn === undefined ? fenceArgv : ['sh', '-c', 'printf %s "$0" | "$@"', opts.pipeIn, ...fenceArgv];
  const size = [String(opts.rows ?? 24), String(opts.cols ?? 80)];
  const driver = spawn('python3', [DRIVER, ...size, ...argv], { cwd: ws.dir, env, stdio: 'pipe' });
  let output = '';
  let reports = '';
  driver.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  driver.stderr.setEncoding('utf8').on('data', (d: string) => (reports += d));
  const report = (key: string) => [...reports.matchAll(new RegExp(`^${key} (.*)$`, 'gm'))].map((m) => m[1]!);
  const killer = setTimeout(() => driver.kill('SIGKILL'), 60_000);
  const exited = new Promise<TerminalExit>((resolve, reject) => {
    driver.on('error', reject);
    driver.on('close', () => {
      clearTimeout(killer);
      const [sttyBefore = '', sttyAfter = ''] = report('stty');
      const status = report('exit')[0];
      if (status === undefined) reject(new Error(`terminal driver failed:\n${reports}\noutput: ${JSON.stringify(output)}`));
      else resolve({ status: Number(status), sttyBefore, sttyAfter, output });
    });
  });
  exited.catch(() => undefined); // a test that failed before awaiting it reports its own error
  const pid = new Promise<number>((resolve, reject) => {
    const look = () => {
      const found = report('pid')[0];
      if (found !== undefined) resolve(Number(found));
      else if (driver.exitCode !== null) reject(new Error(`no pid: ${reports}`));
      else setTimeout(look, 20);
    };
    look();
  });
  const send = (line: string) => driver.stdin.write(`${line}\n`);
  return {
    output: () => output,
    type: (keys) => send(`w ${Buffer.from(keys).toString('base64')}`),
    resize: (rows, cols) => send(`r ${rows} ${cols}`),
    waitFor: async (pattern, { ms = 15_000, from = 0 } = {}) => {
      const matches = () => (typeof pattern === 'string' ? output.includes(pattern, from) : pattern.test(output.slice(from)));
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (matches()) return;
      if (!matches()) throw new Error(`timed out waiting for ${String(pattern)}; output so far: ${JSON.stringify(output)}`);
    },
    pid,
    exited,
  };
}
