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
 * `/usr/bin/git push` is `git push`. A matching allow rule wins over any deny rule; `ssh` commands
 * also go through the SSH policy (ssh-policy.ts).
 */
import { errors, sshPolicyActive, type FenceError, type Policy } from '@fence/core';
import { commandViews } from './command-views.js';
import { commandDenialOf, denialRule, type CommandDenial, type DenialField } from './command-rules.js';
import { sshDenial } from './ssh-policy.js';

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

const FIXES: Readonly<Record<DenialField, string>> = {
  'command.deny': 'remove the rule or add an exception to command.allow',
  'command.useDefaults': 'add an exception to command.allow or set command.useDefaults to false',
  'ssh.deniedHosts': 'remove the pattern from ssh.deniedHosts',
  'ssh.allowedHosts': 'add the host to ssh.allowedHosts',
  'ssh.deniedCommands': 'remove the rule from ssh.deniedCommands',
  'ssh.inheritDeny': 'set ssh.inheritDeny to false or lift the command rule',
  'ssh.allowedCommands': 'add the command to ssh.allowedCommands or set ssh.allowAllCommands',
  'command.runtimeExecPolicy': 'make the file readable and run it by a path inside the sandbox',
};

/** COMMAND_DENIED for `d`: the command, the rule, and how to lift it. */
export function commandDeniedError(d: CommandDenial): FenceError {
  return errors.commandDenied(d.command, `${denialRule(d)}; ${FIXES[d.field]}`);
}

/** Throws COMMAND_DENIED when the policy refuses a command `argv` would run. */
export function checkCommand(argv: readonly string[], policy: Pick<Policy, 'command' | 'ssh'>): void {
  const d = findCommandDenial(argv, policy);
  if (d) throw commandDeniedError(d);
}
