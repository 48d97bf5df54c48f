/**
 * Spawns the final argv (wrappers + command) with the plan's descriptors, forwards SIGINT,
 * SIGTERM and SIGHUP, and reports the exit status as a shell would (128+N on signal N).
 *
 * On a terminal run this process's terminal is in raw mode while the command runs, so every key
 * (Ctrl-C, Ctrl-Z included) is a byte for the relay inside, and SIGINT is not forwarded: it would
 * end the whole sandbox instead of the job in the foreground inside. SIGWINCH is forwarded so the
 * relay copies the new window size. The mode is set back when the command exits, when it cannot
 * start, and when this process exits first (Fence's own error); a SIGINT sent to this process from
 * elsewhere ends it by Node's default handler, which sets back the mode Node found at start. A
 * SIGKILL of this process cannot be caught (`stty sane` repairs the terminal then).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { PlanFd, SignalStrategy, TerminalHost, WrapperProcess } from './plan.js';

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
  /** Forward this process's SIGINT/SIGTERM/SIGHUP to the command while it runs (not SIGINT on a terminal run). */
  readonly forwardSignals: boolean;
  /** A terminal run: this process's stdin, a terminal, is raw until the command exits; SIGWINCH is forwarded. */
  readonly terminal?: TerminalHost;
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

/** Raw mode on stdin until the returned function runs, or this process exits. */
function rawUntilRestored(terminal: TerminalHost): () => void {
  const setBack = terminal.makeRaw(0);
  const restore = () => {
    process.off('exit', restore);
    try {
      setBack();
    } catch {
      /* the terminal is gone: nothing to set back */
    }
  };
  process.once('exit', restore);
  return restore;
}

export function spawnCommand(req: SpawnRequest): SpawnedCommand {
  const [file, ...args] = req.argv;
  const restore = req.terminal ? rawUntilRestored(req.terminal) : () => undefined;
  const passed = (fd: PlanFd) => (fd === 'none' ? 'ignore' : typeof fd === 'object' && 'inherit' in fd ? fd.inherit() : 'pipe');
  const stdio: StdioOptions = [...(req.stdio ?? ['inherit', 'inherit', 'inherit']), ...req.fds.map(passed)];
  // Listening before the spawn: a signal in between would end this process by its default action
  // and leave bwrap to die of SIGPIPE on its report, its child waiting for it forever. Handlers run
  // from the event loop, so never before `child` is set.
  const handlers = new Map<NodeJS.Signals, () => void>();
  const forwarded = [
    ...(req.forwardSignals ? FORWARDED_SIGNALS.filter((s) => !req.terminal || s !== 'SIGINT') : []),
    ...(req.terminal ? (['SIGWINCH'] as const) : []),
  ];
  for (const s of forwarded) {
    const h = () => deliver(s);
    handlers.set(s, h);
    process.on(s, h);
  }
  const stopForwarding = () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
  let child: ChildProcess;
  try {
    child = spawn(file!, args, { env: req.env, cwd: req.cwd, stdio });
  } catch (e) {
    stopForwarding();
    restore(); // a synchronous refusal (bad argument, descriptor): no 'error' event follows
    throw e;
  }
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
  const deliver = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    // The strategy finds the command through the report: a signal that comes before Node has read
    // it (a busy machine runs the signal handler first) waits for it, or it would reach the wrapper.
    if (req.signal && report === undefined && reports.length > 0) {
      void reported.then(() => deliver(signal));
      return;
    }
    try {
      if (req.signal) req.signal(wrapper, signal);
      else child.kill(signal);
    } catch {
      /* already gone */
    }
  };
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) => {
      stopForwarding();
      restore();
      reject(e);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      restore();
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

/** A detached shell that cleans up after this process, however it ends. */
export interface Watchdog {
  /** Runs the cleanup now, as this process's death would (closes the pipe the shell waits on). */
  release(): void;
  /** Ends the shell without its cleanup (what it would remove is no longer this session's). */
  cancel(): void;
}

/**
 * Starts `/bin/sh -c <script> <name> <args...>` detached, after it read its stdin, a pipe from this
 * process, to EOF: when this process exits, however it died (SIGKILL included), the script runs.
 * The script gets `args` as "$@" and must not need a terminal or output.
 */
export function startWatchdog(name: string, script: string, args: readonly string[]): Watchdog {
  const child = spawn('/bin/sh', ['-c', `cat >/dev/null\n${script}`, name, ...args], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    release: () => child.stdin?.end(),
    cancel: () => {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}
