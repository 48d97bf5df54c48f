/**
 * A command run for a program rather than a terminal: its output captured, and the violations
 * reported while it ran, which is what an agent needs to understand a failure.
 *
 *   const result = await sandbox.exec(['npm', 'ci']);
 *   if (result.status !== 0) console.error(annotateStderr(result));
 */
import type { Readable } from 'node:stream';
import type { Command, Sandbox } from './session.js';
import type { Violation } from './violations.js';

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed (default: no stdin). */
  readonly input?: string | Uint8Array;
  /** Forward this process's SIGINT/SIGTERM/SIGHUP to the command. */
  readonly forwardSignals?: boolean;
}

export interface CommandResult {
  /** The exit status: the command's code, or 128+N when it died of signal N. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * What the sandbox blocked from the command's start to its exit (monitors are flushed first).
   * Commands running at the same time in one session share their proxies, so each one's list
   * also holds what the others were refused then: give concurrent commands sessions of their own.
   */
  readonly violations: readonly Violation[];
}

function collect(stream: Readable | null): Promise<string> {
  if (!stream) return Promise.resolve('');
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((done, reject) => {
    stream.once('end', () => done(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

/** Runs `command` in the session to completion; see Sandbox.exec. */
export async function execCommand(sandbox: Sandbox, command: Command, options: ExecOptions = {}): Promise<CommandResult> {
  const violations: Violation[] = [];
  const unsubscribe = sandbox.violations.on((v) => {
    if (v.action === 'block') violations.push(v);
  });
  try {
    const spawned = sandbox.spawn(command, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], forwardSignals: options.forwardSignals });
    const [stdout, stderr] = [collect(spawned.child.stdout), collect(spawned.child.stderr)];
    spawned.child.stdin?.on('error', () => undefined).end(options.input); // it may exit without reading
    const status = await spawned.exited;
    return { status, stdout: await stdout, stderr: await stderr, violations };
  } finally {
    unsubscribe();
  }
}

/**
 * The command's stderr, followed, when it failed and the sandbox blocked something while it ran,
 * by one `fence:` line per blocked action: the likely cause of the error above it.
 */
export function annotateStderr(result: CommandResult): string {
  if (result.status === 0 || result.violations.length === 0) return result.stderr;
  const lines = result.violations.map((v) => `fence:   ${v.source}: ${v.detail ?? v.target}${v.reason ? ` (${v.reason})` : ''}`);
  const sep = result.stderr === '' || result.stderr.endsWith('\n') ? '' : '\n';
  return `${result.stderr}${sep}fence: the sandbox blocked ${lines.length} action${lines.length === 1 ? '' : 's'} while this command ran (exit ${result.status}):\n${lines.join('\n')}\n`;
}
