/**
 * The command policy (`command.deny`, `command.allow`, `command.useDefaults`), checked on the
 * command line before launch. It is a guard against mistakes (an agent running `git push` or
 * `sudo`), not a security boundary: a program can always run another program in ways no command
 * line shows (a script file, `python -c`, a variable holding the name). The sandbox layers are
 * the boundary. Pure.
 *
 * A rule is a command prefix: its words must equal the first words of a command. Every command a
 * command line runs is checked: each simple command of a shell string, the command behind
 * wrappers (`env X=1 git push`, `nohup`, `timeout 5`, `xargs`, `sudo` …) and the script of
 * `bash -c '…'`/`sh -c`/`eval`, recursively. Commands are compared by program name, so
 * `/usr/bin/git push` is `git push`. A matching allow rule wins over any deny rule.
 */
import { errors, sshPolicyActive, type Policy } from '@fence/core';
import { splitShellCommands } from './command-parse.js';
import { sshDenial } from './ssh-policy.js';

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

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish']);

interface Wrapper {
  /** Options that take the next word as their value. */
  readonly withValue?: readonly string[];
  /** Positional words before the command (timeout's duration). */
  readonly positional?: number;
  /** Leading `NAME=value` words are settings, not the command (env). */
  readonly assignments?: boolean;
}

/** Programs that run the command given in their arguments. */
const WRAPPERS: Record<string, Wrapper> = {
  builtin: {},
  busybox: {},
  command: {},
  doas: { withValue: ['-u', '-C'] },
  env: { withValue: ['-u', '--unset', '-C', '--chdir'], assignments: true },
  exec: { withValue: ['-a'] },
  ionice: { withValue: ['-c', '-n', '-p', '-P', '-u', '--class', '--classdata'] },
  nice: { withValue: ['-n', '--adjustment'] },
  nohup: {},
  setsid: {},
  stdbuf: { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'] },
  sudo: { withValue: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T', '--user', '--group', '--chdir', '--prompt'] },
  time: { withValue: ['-f', '-o', '--format', '--output'] },
  timeout: { withValue: ['-s', '-k', '--signal', '--kill-after'], positional: 1 },
  xargs: { withValue: ['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs', '--max-chars'] },
};

/** `bash -c '…'` recursion deeper than this is not inspected. */
const MAX_DEPTH = 8;

export const baseName = (word: string): string => word.slice(word.lastIndexOf('/') + 1);

/** The command `env -S 'git push' x` / `env git push` … runs, or undefined. */
function unwrap(name: string, args: readonly string[]): string[] | undefined {
  const spec = WRAPPERS[name];
  if (spec === undefined) return undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (name === 'env' && (a === '-S' || a === '--split-string')) {
      return [...(args[i + 1] ?? '').split(/\s+/).filter(Boolean), ...args.slice(i + 2)];
    }
    if (name === 'env' && /^(-S|--split-string=)/.test(a)) {
      return [...a.replace(/^(-S|--split-string=)/, '').split(/\s+/).filter(Boolean), ...args.slice(i + 1)];
    }
    if (spec.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) continue;
    if (!a.startsWith('-') || a === '-') break;
    if (spec.withValue?.includes(a)) i++;
  }
  const rest = args.slice(i + (spec.positional ?? 0));
  return rest.length > 0 ? rest : undefined;
}

/** The script of `bash -c script`, `sh -xc script` …, or undefined. */
function shellScript(args: readonly string[]): string | undefined {
  let sawC = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--' || a === '-') return sawC ? args[i + 1] : undefined;
    if (['-o', '+o', '-O', '+O', '--rcfile', '--init-file'].includes(a)) i++;
    else if (a.startsWith('--')) continue;
    else if (/^[-+][A-Za-z]+$/.test(a)) sawC ||= a.startsWith('-') && a.includes('c');
    else return sawC ? a : undefined;
  }
  return undefined;
}

/**
 * Every command `argv` would run that the policy can see: argv itself, the commands behind
 * wrappers, and the simple commands of shell scripts (`bash -c`, `eval`), each with its program
 * name reduced to the base name.
 */
export function commandViews(argv: readonly string[], program?: string): string[][] {
  const views: string[][] = [];
  const visit = (words: readonly string[], depth: number): void => {
    if (words.length === 0 || depth > MAX_DEPTH) return;
    const name = depth === 0 && program !== undefined ? program : baseName(words[0]);
    const args = words.slice(1);
    views.push([name, ...args]);
    const script = SHELLS.has(name) ? shellScript(args) : name === 'eval' ? args.join(' ') : undefined;
    if (script !== undefined) for (const c of splitShellCommands(script)) visit(c, depth + 1);
    const inner = unwrap(name, args);
    if (inner) visit(inner, depth + 1);
  };
  visit(argv, 0);
  return views;
}

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
  | 'ssh.allowedCommands';

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

/**
 * The first command of `argv` the policy refuses, or undefined when all are allowed. `program`
 * names the program argv runs when that is known better than argv[0] says (a renamed copy).
 */
export function findCommandDenial(
  argv: readonly string[],
  policy: Pick<Policy, 'command' | 'ssh'>,
  program?: string,
): CommandDenial | undefined {
  const ssh = sshPolicyActive(policy.ssh);
  for (const view of commandViews(argv, program)) {
    const command = view.join(' ');
    const byRule = commandDenialOf(view, policy.command);
    if (byRule) return { command, ...byRule };
    const bySsh = ssh && view[0] === 'ssh' ? sshDenial(view.slice(1), policy) : undefined;
    if (bySsh) return { command, ...bySsh };
  }
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
    default:
      return `${d.field} rule "${d.rule}"`;
  }
}

const FIXES: Readonly<Record<DenialField, string>> = {
  'command.deny': 'remove the rule or add an exception to command.allow',
  'command.useDefaults': 'add an exception to command.allow or set command.useDefaults to false',
  'ssh.deniedHosts': 'remove the pattern from ssh.deniedHosts',
  'ssh.allowedHosts': 'add the host to ssh.allowedHosts',
  'ssh.deniedCommands': 'remove the rule from ssh.deniedCommands',
  'ssh.inheritDeny': 'set ssh.inheritDeny to false or lift the command rule',
  'ssh.allowedCommands': 'add the command to ssh.allowedCommands or set ssh.allowAllCommands',
};

/** Throws COMMAND_DENIED when the policy refuses a command `argv` would run. */
export function checkCommand(argv: readonly string[], policy: Pick<Policy, 'command' | 'ssh'>): void {
  const d = findCommandDenial(argv, policy);
  if (d) throw errors.commandDenied(d.command, `${denialRule(d)}; ${FIXES[d.field]}`);
}
