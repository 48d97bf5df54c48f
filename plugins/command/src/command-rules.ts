/**
 * Command rules: a rule is a command prefix, its words equal to the first words of a command
 * (program names compared without their directory). The built-in rules, the match, and how a
 * refusal names its rule. Pure.
 */
import type { Policy } from '@fence/core';
import { splitShellCommands } from './command-parse.js';
import { baseName } from './command-views.js';

/** Refused when `command.useDefaults` is true (the default). */
export const DEFAULT_DENIED_COMMANDS: readonly string[] = [
  'sudo',
  'su',
  'doas',
  'pkexec',
  'shutdown',
  'reboot',
  'poweroff',
  'halt',
  'init 0',
  'init 6',
  'systemctl poweroff',
  'systemctl reboot',
  'systemctl halt',
  'mkfs',
  'mkfs.ext4',
  'mkfs.xfs',
  'mkfs.btrfs',
  'mkfs.vfat',
  'mkswap',
  'wipefs',
  'rm -rf /',
  'rm -rf /*',
  'rm -rf ~',
  'rm -rf --no-preserve-root',
];

/** The words of a rule, with its program name reduced to the base name like commands are. */
function ruleWords(rule: string): string[] {
  const [words = []] = splitShellCommands(rule);
  return words.length > 0 ? [baseName(words[0]), ...words.slice(1)] : [];
}

/** The first of `rules` that is a prefix of `view`. */
export function matchRule(rules: readonly string[], view: readonly string[]): string | undefined {
  return rules.find((rule) => {
    const words = ruleWords(rule);
    return words.length > 0 && words.length <= view.length && words.every((w, i) => w === view[i]);
  });
}

export type DenialField =
  | 'command.deny'
  | 'command.useDefaults'
  | 'ssh.deniedHosts'
  | 'ssh.allowedHosts'
  | 'ssh.deniedCommands'
  | 'ssh.inheritDeny'
  | 'ssh.allowedCommands'
  | 'command.runtimeExecPolicy';

export interface CommandDenial {
  /** The command that matched, as words joined by spaces. */
  readonly command: string;
  /** The rule or pattern that matched (for `ssh.allowedHosts`/`allowedCommands`: what was not found). */
  readonly rule: string;
  readonly field: DenialField;
}

/** The rules that refuse a command, as `command.deny` and `useDefaults` say. */
export function commandDenialOf(view: readonly string[], policy: Policy['command']): Omit<CommandDenial, 'command'> | undefined {
  if (matchRule(policy.allow, view) !== undefined) return undefined;
  const denied = matchRule(policy.deny, view);
  if (denied !== undefined) return { rule: denied, field: 'command.deny' };
  const builtIn = policy.useDefaults ? matchRule(DEFAULT_DENIED_COMMANDS, view) : undefined;
  if (builtIn !== undefined) return { rule: builtIn, field: 'command.useDefaults' };
  return undefined;
}

/** `command.deny rule "git push"`: the rule that refused, for a violation's reason. */
export function denialRule(d: Pick<CommandDenial, 'rule' | 'field'>): string {
  switch (d.field) {
    case 'command.deny':
      return `command.deny rule "${d.rule}"`;
    case 'command.useDefaults':
      return `the built-in rule "${d.rule}" (command.useDefaults)`;
    case 'ssh.allowedHosts':
      return `ssh.allowedHosts: host "${d.rule}" is not listed`;
    case 'ssh.allowedCommands':
      return `ssh.allowedCommands: remote command "${d.rule}" is not listed`;
    case 'ssh.inheritDeny':
      return `ssh.inheritDeny: the remote command matches ${d.rule}`;
    case 'command.runtimeExecPolicy':
      return `command.runtimeExecPolicy "argv": ${d.rule}`;
    default:
      return `${d.field} rule "${d.rule}"`;
  }
}
