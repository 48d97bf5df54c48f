/** Runs commands in a real bwrap sandbox through the library API, capturing their output. */
import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Logger, type SettingsInput } from '@fence/core';
import { bwrapPlugin, probeBwrap } from '../src/index.js';

const probe = await probeBwrap();
/** Why the e2e suites are skipped, or undefined when the machine can run them. */
export const skipReason = !probe ? 'bwrap is not installed (apt install bubblewrap)' : !probe.facts.userns ? 'user namespaces are unusable here' : undefined;
if (skipReason) console.warn(`[bwrap e2e] skipped: ${skipReason}`);

export interface Outcome {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly warnings: readonly string[];
}

export interface RunIn {
  readonly cwd: string;
  readonly settings?: SettingsInput;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs argv in a fresh sandbox session and closes it. */
export async function runIn(where: RunIn, argv: readonly string[]): Promise<Outcome> {
  const warnings: string[] = [];
  const logger: Logger = { debugEnabled: false, debug: () => undefined, warn: (m) => warnings.push(m), notice: (m) => warnings.push(m) };
  const sandbox = await createSandbox({ plugins: [bwrapPlugin], cwd: where.cwd, settings: where.settings ?? {}, env: where.env, logger });
  try {
    const cmd = sandbox.spawn(argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cmd.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    cmd.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'exit' may come before the last output: 'close' follows the end of the child's stdio.
    const closed = new Promise<void>((resolve) => cmd.child.once('close', () => resolve()));
    const status = await cmd.exited;
    await closed;
    return { status, stdout, stderr, warnings };
  } finally {
    await sandbox.close();
  }
}

const made: string[] = [];
/** Removes the scratch directories of this test file (call in afterAll). */
export const removeScratch = (): void => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));

/** A fresh directory under /tmp, open to every user (the unprivileged runs use it too). */
export function scratch(prefix = 'fence-bwrap-e2e-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  chmodSync(dir, 0o777);
  made.push(dir);
  return dir;
}

export const sh = (script: string): string[] => ['sh', '-c', script];
