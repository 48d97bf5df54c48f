/**
 * The plan cache's switches as the e2e suites use them: FENCE_FAST_PATH=explain makes both paths
 * say what they did (the fast path `fence: fast path: hit` or why it handed the run to Node, the
 * CLI why it stored no plan); a plan is stored only when its inputs are 2 s old (the racy rule).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { fence, type Result, type Workspace } from './fence.js';

export const EXPLAIN = { FENCE_FAST_PATH: 'explain' };
export const NODE = { FENCE_FAST_PATH: '0' };
export const HIT = 'fence: fast path: hit\n';

/** The fast path's own line, if any. */
export const fastLine = (r: Result): string | undefined => /^fence: fast path: .*$/m.exec(r.stderr)?.[0];
/** stderr without the explanations. */
export const userStderr = (r: Result): string => r.stderr.replace(/^fence: (fast path|plan cache): .*\n/gm, '');

/** Runs `args` until its plan is stored: once to fill the caches, then again once its inputs are 2 s old. */
export async function warm(ws: Workspace, args: readonly string[], env: Record<string, string> = {}): Promise<void> {
  await fence(ws, args, { env: { ...NODE, ...env } });
  await sleep(2100);
  const r = await fence(ws, args, { env: { ...NODE, ...env, FENCE_FAST_PATH: 'explained' } });
  expect(r.stderr).not.toMatch(/plan cache: not stored/);
}
