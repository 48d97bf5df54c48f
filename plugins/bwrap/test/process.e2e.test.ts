import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '@fence/core';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapPlugin } from '../src/index.js';
import { runIn, removeScratch, scratch, sh, skipReason } from './sandbox-helper.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/run-sandbox.mjs', import.meta.url));
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(test: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleepMs(50)) if (test()) return true;
  return test();
}

const pgrep = (pattern: string): string => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  } catch {
    return '';
  }
};

describe.skipIf(skipReason)('bwrap sandbox: processes, exit status and signals', () => {
  it('hides host processes: /proc lists only the sandbox', async () => {
    const r = await runIn({ cwd: scratch() }, sh('ls /proc | grep -E "^[0-9]+$"'));
    const pids = r.stdout.trim().split('\n').map(Number);
    expect(pids.length).toBeGreaterThan(0);
    expect(Math.max(...pids)).toBeLessThan(20);
  });

  it('cannot signal a host process', async () => {
    const r = await runIn({ cwd: scratch() }, sh(`kill -0 ${process.pid} && echo reached || echo unreachable`));
    expect(r.stdout).toContain('unreachable');
  });

  it('returns the command exit status', async () => {
    expect((await runIn({ cwd: scratch() }, sh('exit 7'))).status).toBe(7);
  });

  it('returns 128+N when the command dies of signal N', async () => {
    expect((await runIn({ cwd: scratch() }, sh('kill -TERM $$'))).status).toBe(143);
  });

  it('forwards SIGTERM to the command itself', async () => {
    const sandbox = await createSandbox({ plugins: [bwrapPlugin], cwd: scratch(), settings: {} });
    try {
      const cmd = sandbox.spawn(sh('trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.05; done'), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      cmd.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      expect(await until(() => out.includes('ready'))).toBe(true);
      const closed = new Promise<void>((resolve) => cmd.child.once('close', () => resolve()));
      cmd.kill('SIGTERM');
      expect(await cmd.exited).toBe(3);
      await closed; // 'exit' may come before the last output
      expect(out).toContain('got-term');
    } finally {
      await sandbox.close();
    }
  });

  it('leaves no process and no placeholder when the host process is killed with SIGKILL', async () => {
    const ws = scratch();
    const marker = `31.${process.pid}${Date.now() % 100000}`;
    const host = spawn(process.execPath, [FIXTURE, ws, JSON.stringify({ filesystem: { allowWrite: ['.'] } }), '--', 'sh', '-c', `echo started; sleep ${marker}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    host.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await until(() => out.includes('started'))).toBe(true);
    expect(existsSync(join(ws, '.bashrc'))).toBe(true); // the placeholder exists while it runs
    host.kill('SIGKILL');
    expect(await until(() => pgrep(`sleep ${marker}`) === '')).toBe(true);
    expect(await until(() => readdirSync(ws).length === 0)).toBe(true);
  });

  it('runs common tools inside: python3, node, git, npm', async () => {
    const ws = scratch();
    execFileSync('git', ['init', '-q', ws]);
    const r = await runIn({ cwd: ws, settings: { filesystem: { allowWrite: ['.'] } } }, sh(
      'python3 -c "print(6*7)" && node -e "console.log(process.version)" && git status --short && npm --version',
    ));
    expect(r.stderr).not.toMatch(/not found/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^42\nv\d+\.\d+\.\d+\n(.*\n)*\d+\.\d+\.\d+\n$/);
  });
});

afterAll(removeScratch);
