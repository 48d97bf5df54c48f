/**
 * Spawns the final argv (wrappers + command) with the plan's descriptors, forwards SIGINT,
 * SIGTERM and SIGHUP, and reports the exit status as a shell would (128+N on signal N).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { PlanFd, SignalStrategy, WrapperProcess } from './plan.js';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface SpawnRequest {
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** Descriptors 3, 4, ... of the child: data, the start gate (written by release()), the report (read), or inherited. */
  readonly fds: readonly PlanFd[];
  /** stdin, stdout, stderr of the child; default inherit. */
  readonly stdio?: readonly ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
  readonly signal?: SignalStrategy;
  /** Forward this process's SIGINT/SIGTERM/SIGHUP to the command while it runs. */
  readonly forwardSignals: boolean;
}

export interface SpawnedCommand {
  readonly child: ChildProcess;
  /** The wrapper as the signal strategy sees it (its pid, its report). */
  readonly wrapper: WrapperProcess;
  /** Resolves with the exit status (code, or 128+N). */
  readonly exited: Promise<number>;
  /** Sends a signal the way forwarding does. */
  kill(signal?: NodeJS.Signals): void;
  /** Opens the start gate, if the plan has one: the command starts now. */
  release(): void;
}

export function spawnCommand(req: SpawnRequest): SpawnedCommand {
  const [file, ...args] = req.argv;
  const passed = (fd: PlanFd) => (fd === 'none' ? 'ignore' : typeof fd === 'object' && 'inherit' in fd ? fd.inherit() : 'pipe');
  const stdio: StdioOptions = [...(req.stdio ?? ['inherit', 'inherit', 'inherit']), ...req.fds.map(passed)];
  const child = spawn(file!, args, { env: req.env, cwd: req.cwd, stdio });
  const gates: Writable[] = [];
  let report: string | undefined;
  const reports: Promise<string>[] = [];
  req.fds.forEach((data, i) => {
    const stream = child.stdio[3 + i] as (Writable & Readable) | null;
    if (!stream || data === 'none') return;
    stream.on('error', () => undefined); // the wrapper may exit before reading everything
    if (data === 'start-gate') gates.push(stream);
    else if (data === 'report') reports.push(readToEnd(stream).then((text) => (report = text)));
    else stream.end(data);
  });
  const reported = Promise.all(reports).then((texts) => texts.join(''));
  const wrapper: WrapperProcess = {
    pid: child.pid ?? 0,
    get report() {
      return reports.length === 0 ? '' : report;
    },
    reported,
  };
  const deliver = (signal: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (req.signal) req.signal(wrapper, signal);
      else child.kill(signal);
    } catch {
      /* already gone */
    }
  };
  const handlers = new Map<NodeJS.Signals, () => void>();
  if (req.forwardSignals) {
    for (const s of FORWARDED_SIGNALS) {
      const h = () => deliver(s);
      handlers.set(s, h);
      process.on(s, h);
    }
  }
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) => {
      for (const [s, h] of handlers) process.off(s, h);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  return { child, wrapper, exited, kill: (s = 'SIGTERM') => deliver(s), release: () => gates.forEach((g) => g.end('1')) };
}

/** The text of a pipe up to its end (all writers closed: the wrapper wrote it, or exited). */
function readToEnd(stream: Readable): Promise<string> {
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => (text += d));
  return new Promise((resolve) => {
    stream.once('end', () => resolve(text));
    stream.once('close', () => resolve(text));
  });
}
