/**
 * `fence --claude-pre-tool-use` (and `--codex-…`, `--cursor-…`, `--opencode-…`): the hook an
 * agent runs before each shell tool call. It only loads the settings and checks the command
 * policy (no sandbox starts). It fails closed: a payload or settings it cannot read is a denial
 * naming why, never a silent pass (most agents treat a failing hook as "no opinion").
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { errors, isFenceError, loadPolicy } from '@fence/core';
import type { Flags } from '../args.js';
import { contracts, type Agent } from '../agents/contracts.js';
import { ruleProblems } from '../agents/command-policy.js';
import { decide, type HookDecision } from '../agents/decide.js';

const reasonOf = (e: unknown): string => (isFenceError(e) ? `fence: ${e.message}` : `fence: internal error: ${e instanceof Error ? e.message : String(e)}`);

function decision(agent: Agent, payload: unknown, flags: Flags): HookDecision {
  const contract = contracts[agent];
  const call = contract.toolCall(payload);
  if (call === undefined) return { kind: 'pass', why: 'not-a-shell-command' };
  if (call.command === undefined) return { kind: 'deny', reason: `fence: this ${agent} shell call carries no command string Fence can check; the command was not run` };
  try {
    const { policy } = loadPolicy({
      cwd: call.cwd ?? process.cwd(),
      home: process.env.HOME ?? homedir(),
      env: process.env,
      settingsFile: flags.settings,
      template: flags.template,
    });
    // Each rule must be one command prefix, as a sandbox session requires.
    const problems = ruleProblems(policy);
    if (problems.length > 0) throw errors.settingsInvalid('settings', problems.join('\n'));
    return decide({
      command: call.command,
      policy,
      insideFence: process.env.FENCE_SANDBOX === '1',
      canRewrite: contract.canRewrite,
      pin: { settings: flags.settings, template: flags.template },
    });
  } catch (e) {
    return { kind: 'deny', reason: `${reasonOf(e)} (the command was not run)` };
  }
}

export function preToolUse(agent: Agent, flags: Flags): number {
  const contract = contracts[agent];
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(0, 'utf8'));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    process.stdout.write(contract.answer({ kind: 'deny', reason: `fence: the ${agent} hook payload on stdin is not JSON (${why}); the command was not run` }, {}));
    return 0;
  }
  process.stdout.write(contract.answer(decision(agent, payload, flags), payload));
  return 0;
}
