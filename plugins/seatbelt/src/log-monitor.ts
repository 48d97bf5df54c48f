/** Follows `log stream` for this session's denials while a command runs (-m, macOS only). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Clock, ViolationStream } from '@fence/core';
import { logStreamArgs, parseSandboxLogLine } from './log-stream.js';

export class LogMonitor {
  private constructor(private readonly child: ChildProcess, private readonly closed: Promise<void>) {}

  static start(logTag: string, violations: ViolationStream, clock: Clock): LogMonitor {
    const child = spawn('/usr/bin/log', logStreamArgs(logTag), { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      const v = parseSandboxLogLine(line, clock.now(), logTag);
      if (v) violations.emit(v);
    });
    const closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
    return new LogMonitor(child, closed);
  }

  /** Stops `log stream`; the unified log delivers with a short delay, so the caller drains first. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    await this.closed;
  }
}
