/**
 * Runs one attack: in the sandbox, and first on the host when its verdict compares the two (see
 * Attack.judge). A script that hangs is killed after ATTACK_TIMEOUT_MS and judged like any other.
 */
import { spawnSync } from 'node:child_process';
import { isFenceError, type Sandbox } from '@fence/core';
import type { Attack, CheckContext } from './attack.js';
import type { Outcome } from './verdict.js';

const ATTACK_TIMEOUT_MS = 10_000;

/** The script's stdout inside the sandbox (stdin and stderr go nowhere). */
async function inSandbox(sandbox: Sandbox, script: string): Promise<string> {
  const run = sandbox.spawn(['bash', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  run.child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const closed = new Promise((resolve) => run.child.stdout?.once('close', resolve) ?? resolve(undefined));
  const timer = setTimeout(() => run.kill('SIGKILL'), ATTACK_TIMEOUT_MS);
  await Promise.all([run.exited, closed]).finally(() => clearTimeout(timer));
  return stdout.trim();
}

function onHost(script: string): string {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: ATTACK_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  return (r.stdout || r.stderr || '').trim();
}

export async function runAttack(sandbox: Sandbox, ctx: CheckContext, attack: Attack): Promise<Outcome> {
  const untestable = attack.untestable?.(ctx);
  if (untestable) return { kind: 'untested', why: untestable };
  const allowed = await attack.allowedBy?.(ctx);
  if (allowed) return { kind: 'allowed', why: allowed };
  const script = attack.script(ctx);
  const host = attack.judge.kind === 'same-as-host' ? onHost(script) : undefined;
  if (host !== undefined && !host.startsWith('ok')) {
    return { kind: 'untested', why: `the host itself refuses it: ${host.split('\n')[0] || 'no output'}` };
  }
  ctx.host.reset();
  let stdout: string;
  try {
    stdout = await inSandbox(sandbox, script);
  } catch (e) {
    // command.deny is a guard against mistakes, not a boundary: it proves nothing either way.
    if (isFenceError(e) && e.code === 'COMMAND_DENIED') return { kind: 'untested', why: e.message };
    throw e;
  }
  await attack.provoke?.(ctx);
  await ctx.host.settle();
  const got = attack.judge.kind === 'same-as-host' ? stdout === host : attack.judge.happened(ctx, stdout);
  return { kind: got ? 'escaped' : 'stopped' };
}
