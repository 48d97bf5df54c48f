/**
 * Command rules are checked word by word, so each must be one command prefix. The settings
 * schema (in the kernel) cannot parse shell words; this layer checks every rule of the policy
 * when a session starts, with the settings error's form.
 */
import type { Policy } from '@fence/core';
import { commandRuleProblem } from './command-parse.js';

/** `command.deny[0]: "a; b" holds 2 commands; …`, one line per bad rule. */
export function ruleProblems(policy: Pick<Policy, 'command' | 'ssh'>): string[] {
  const lists: [string, readonly string[]][] = [
    ['command.deny', policy.command.deny],
    ['command.allow', policy.command.allow],
    ['ssh.allowedCommands', policy.ssh.allowedCommands],
    ['ssh.deniedCommands', policy.ssh.deniedCommands],
  ];
  return lists.flatMap(([field, rules]) =>
    rules.flatMap((rule, i) => {
      const problem = commandRuleProblem(rule);
      return problem ? [`  ${field}[${i}]: ${problem}`] : [];
    }),
  );
}
