import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadPolicy } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { contracts, type Agent } from '../../src/agents/contracts.js';
import { decide, fenceCommand, shellQuote } from '../../src/agents/decide.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/agents', name), 'utf8'));
const policy = loadPolicy({ cwd: '/', home: '/nonexistent', env: {}, inline: { command: { deny: ['git push'] } } }).policy;

const PAYLOADS: Record<Agent, string> = {
  claude: 'claude-pre-tool-use.json',
  codex: 'codex-pre-tool-use.json',
  cursor: 'cursor-before-shell-execution.json',
  opencode: 'opencode-tool-execute-before.json',
};

const answer = (agent: Agent, payload: Record<string, unknown>, insideFence = false) => {
  const contract = contracts[agent];
  const call = contract.toolCall(payload)!;
  return contract.answer(decide({ command: call.command!, policy, insideFence, canRewrite: contract.canRewrite, pin: {} }), payload);
};

const withCommand = (agent: Agent, command: string): Record<string, unknown> => {
  const p = fixture(PAYLOADS[agent]);
  if (agent === 'cursor') return { ...p, command };
  if (agent === 'opencode') return { ...p, args: { ...(p.args as object), command } };
  return { ...p, tool_input: { ...(p.tool_input as object), command } };
};

describe('decide', () => {
  it('quotes the command as one shell word that bash gives back unchanged', () => {
    const tricky = `echo 'a' "$HOME" \`id\` $(x) \\ done; it's`;
    const r = spawnSync('bash', ['-c', `printf %s ${shellQuote(tricky)}`], { encoding: 'utf8' });
    expect(r.stdout).toBe(tricky);
  });

  it('pins the settings file and template in the rewritten command', () => {
    expect(fenceCommand('ls -la', { settings: "/p/it's.json", template: 'code' })).toBe(`fence --settings '/p/it'\\''s.json' --template 'code' -c 'ls -la'`);
  });

  it('denies a command hidden in a shell string, naming the rule', () => {
    const d = decide({ command: 'echo ok && (cd /tmp; /usr/bin/git push)', policy, insideFence: false, canRewrite: true, pin: {} });
    expect(d).toEqual({ kind: 'deny', reason: expect.stringMatching(/^fence: command "git push" is denied by command\.deny rule "git push"/) });
  });

  it('denies inside Fence too, and lets an allowed command pass unchanged there', () => {
    expect(decide({ command: 'sudo ls', policy, insideFence: true, canRewrite: true, pin: {} }).kind).toBe('deny');
    expect(decide({ command: 'ls', policy, insideFence: true, canRewrite: true, pin: {} })).toEqual({ kind: 'pass', why: 'inside-fence' });
  });
});

describe('the agents\' hook contracts against recorded payloads', () => {
  it('Claude Code: deny with the reason', () => {
    const out = JSON.parse(answer('claude', fixture(PAYLOADS.claude)));
    expect(out).toEqual({
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: expect.stringContaining('"git push origin main"') },
    });
  });

  it('Claude Code: rewrite keeps the rest of the tool input and allows the changed input', () => {
    const out = JSON.parse(answer('claude', withCommand('claude', 'npm test')));
    expect(out.hookSpecificOutput).toMatchObject({
      permissionDecision: 'allow',
      updatedInput: { command: "fence -c 'npm test'", description: 'Push the branch to origin', timeout: 120000 },
    });
  });

  it('Claude Code: already inside Fence, no opinion (empty answer); another tool, no opinion', () => {
    expect(answer('claude', withCommand('claude', 'npm test'), true)).toBe('');
    expect(contracts.claude.toolCall(fixture('claude-pre-tool-use-read.json'))).toBeUndefined();
  });

  it('a shell call whose command is not a string is a shell call all the same (the entry point denies it)', () => {
    expect(contracts.codex.toolCall({ ...fixture(PAYLOADS.codex), tool_input: { command: ['bash', '-lc', 'git push'] } })).toEqual({ command: undefined, cwd: '/home/dev/project' });
    expect(contracts.cursor.toolCall({ hook_event_name: 'beforeShellExecution' })).toEqual({ command: undefined, cwd: undefined });
    expect(contracts.opencode.toolCall({ tool: 'bash', args: {} })).toEqual({ command: undefined, cwd: undefined });
  });

  it('Codex: the same decisions in the PreToolUse shape', () => {
    expect(JSON.parse(answer('codex', fixture(PAYLOADS.codex))).hookSpecificOutput.permissionDecision).toBe('deny');
    expect(JSON.parse(answer('codex', withCommand('codex', 'ls'))).hookSpecificOutput.updatedInput).toEqual({ command: "fence -c 'ls'" });
  });

  it('Cursor: deny with user and agent messages; cannot rewrite, so an allowed command is allowed as is', () => {
    const out = JSON.parse(answer('cursor', fixture(PAYLOADS.cursor)));
    expect(out).toMatchObject({ permission: 'deny', user_message: expect.stringContaining('git push'), agent_message: expect.stringContaining('git push') });
    expect(JSON.parse(answer('cursor', withCommand('cursor', 'ls')))).toEqual({ permission: 'allow' });
  });

  it('opencode: deny, rewrite, allow inside Fence', () => {
    expect(JSON.parse(answer('opencode', fixture(PAYLOADS.opencode)))).toMatchObject({ decision: 'deny' });
    expect(JSON.parse(answer('opencode', withCommand('opencode', 'ls')))).toEqual({ decision: 'rewrite', command: "fence -c 'ls'" });
    expect(JSON.parse(answer('opencode', withCommand('opencode', 'ls'), true))).toEqual({ decision: 'allow' });
  });
});
