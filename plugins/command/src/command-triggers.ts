/**
 * The program names a command line must start with for the command policy to refuse it, so a
 * launcher that cannot run the policy (the CLI's native fast path) knows when it must hand the
 * command to Fence. The views (command-views.ts) look past argv[0] only for shells, `eval` and
 * wrappers, and git's dashed form; otherwise the one view is argv itself, which a rule matches
 * only by its first word and the SSH policy only as `ssh`. Pure.
 */
import { sshPolicyActive, type Policy } from '@fence/core';
import { splitShellCommands } from './command-parse.js';
import { DEFAULT_DENIED_COMMANDS } from './command-rules.js';
import { baseName, SHELLS, WRAPPERS } from './command-views.js';

export interface CommandTriggers {
  /** Base names of argv[0] that need the policy. */
  readonly names: readonly string[];
  /** Base-name prefixes of argv[0] that need it (git's dashed commands). */
  readonly prefixes: readonly string[];
}

export function commandTriggers(policy: Pick<Policy, 'command' | 'ssh'>): CommandTriggers {
  const rules = [...policy.command.deny, ...(policy.command.useDefaults ? DEFAULT_DENIED_COMMANDS : [])];
  const ssh = sshPolicyActive(policy.ssh);
  // Nothing can be refused: no name needs the policy, wrappers included.
  if (rules.length === 0 && !ssh) return { names: [], prefixes: [] };
  const first = rules.flatMap((r) => splitShellCommands(r)[0]?.slice(0, 1) ?? []).map(baseName);
  const names = new Set([...first, ...SHELLS, 'eval', ...Object.keys(WRAPPERS), ...(ssh ? ['ssh'] : [])]);
  return { names: [...names].sort(), prefixes: names.has('git') ? ['git-'] : [] };
}
