import { describe, expect, it } from 'vitest';
import { commandRuleProblem } from '../src/command-parse.js';
import { checkCommand, findCommandDenial } from '../src/command-policy.js';
import { DEFAULT_DENIED_COMMANDS } from '../src/command-rules.js';
import { commandViews } from '../src/command-views.js';
import { FenceError, SshSchema, type Policy } from '@fence/core';

const policy = (deny: string[] = [], allow: string[] = [], useDefaults = true): Pick<Policy, 'command' | 'ssh'> => ({
  command: { deny, allow, useDefaults, runtimeExecPolicy: 'path', acceptSharedBinaryCannotRuntimeDeny: [] },
  ssh: SshSchema.parse({}),
});
const denied = (argv: string[], p = policy(['git push'])) => findCommandDenial(argv, p);
const bash = (script: string) => ['bash', '-c', script];

describe('checkCommand', () => {
  it('throws COMMAND_DENIED naming the command and the rule', () => {
    expect(() => checkCommand(['git', 'push', 'origin'], policy(['git push']))).toThrowError(
      expect.objectContaining({ code: 'COMMAND_DENIED', message: 'command "git push origin" is denied by command.deny rule "git push"; remove the rule or add an exception to command.allow' }) as FenceError,
    );
  });

  it('explains how to lift a built-in rule', () => {
    expect(() => checkCommand(['sudo', 'ls'], policy())).toThrowError(/built-in rule "sudo" \(command.useDefaults\)/);
  });

  it('lets other commands run', () => {
    expect(() => checkCommand(['git', 'status'], policy(['git push']))).not.toThrow();
  });
});

describe('findCommandDenial', () => {
  it('matches a rule as a prefix of words, not of characters', () => {
    expect(denied(['git', 'push'])).toBeDefined();
    expect(denied(['git', 'pushy'])).toBeUndefined();
    expect(denied(['git'])).toBeUndefined();
  });

  it('compares program names without their directory', () => {
    expect(denied(['/usr/bin/git', 'push'])).toMatchObject({ command: 'git push', rule: 'git push' });
    expect(findCommandDenial(['git', 'push'], policy(['/usr/bin/git push']))).toBeDefined();
  });

  it('lets an allow rule win over a deny rule', () => {
    expect(findCommandDenial(['git', 'push', 'origin'], policy(['git'], ['git push']))).toBeUndefined();
    expect(findCommandDenial(['git', 'reset'], policy(['git'], ['git push']))).toMatchObject({ rule: 'git' });
    expect(findCommandDenial(['sudo', 'ls'], policy([], ['sudo']))).toBeUndefined();
  });

  it.each([
    ['a list', 'echo ok; git push'],
    ['an and-list', 'make && git push origin main'],
    ['an or-list', 'false || git push'],
    ['a pipeline', 'yes | git push'],
    ['a background job', 'git push & wait'],
    ['a new line', 'echo ok\ngit push'],
    ['a subshell', '(git push)'],
    ['a command substitution', 'echo $(git push)'],
    ['backticks', 'echo `git push`'],
    ['a nested bash -c', `bash -c 'sh -c "git push"'`],
    ['eval', 'eval git push'],
    ['env with assignments', 'env -i HOME=/x GIT_X=1 git push'],
    ['an assignment prefix', 'GIT_TRACE=1 git push'],
    ['an absolute path', '/usr/bin/git push'],
    ['nohup and timeout', 'nohup timeout -s KILL 10 git push'],
    ['xargs', 'echo origin | xargs git push'],
    ['quotes around the name', `"git" 'push'`],
  ])('finds git push in %s', (_, script) => {
    expect(denied(bash(script))).toMatchObject({ rule: 'git push', field: 'command.deny' });
  });

  it('reads the script of sh/bash with clustered options and -o', () => {
    expect(denied(['sh', '-ec', 'git push'])).toBeDefined();
    expect(denied(['/bin/bash', '-o', 'pipefail', '-lc', 'git push'])).toBeDefined();
    expect(denied(['bash', '--norc', '-c', 'git push', 'arg0'])).toBeDefined();
    expect(denied(['bash', 'script.sh', '-c', 'git push'])).toBeUndefined();
  });

  it('lists argv, the wrapped command and the script commands as views', () => {
    expect(commandViews(['env', 'A=1', 'bash', '-c', 'ls; /bin/rm x'])).toEqual([
      ['env', 'A=1', 'bash', '-c', 'ls; /bin/rm x'],
      ['bash', '-c', 'ls; /bin/rm x'],
      ['ls'],
      ['rm', 'x'],
    ]);
  });

  it('reads env -S split strings', () => {
    expect(denied(['env', '-S', 'git push'])).toBeDefined();
  });

  it('sees through sudo-like prefixes even when sudo itself is allowed', () => {
    expect(findCommandDenial(['sudo', '-u', 'root', 'git', 'push'], policy(['git push'], [], false))).toMatchObject({ command: 'git push' });
  });

  it('refuses the built-in dangerous commands only when useDefaults is on', () => {
    for (const argv of [['sudo', 'id'], ['su'], ['doas', 'sh'], ['shutdown', '-h', 'now'], ['reboot'], ['rm', '-rf', '/'], ['mkfs.ext4', '/dev/sda1']]) {
      expect(findCommandDenial(argv, policy())).toMatchObject({ field: 'command.useDefaults' });
      expect(findCommandDenial(argv, policy([], [], false))).toBeUndefined();
    }
    expect(findCommandDenial(bash('echo hi && sudo ls'), policy())).toMatchObject({ command: 'sudo ls', rule: 'sudo' });
    expect(findCommandDenial(['rm', '-rf', './build'], policy())).toBeUndefined();
  });

  it('does not mistake arguments for commands', () => {
    expect(denied(['echo', 'git', 'push'])).toBeUndefined();
    expect(denied(bash(`echo 'git push'; grep "sudo" file`), policy(['git push']))).toBeUndefined();
  });

  it('takes the program name it is told over argv[0] (a renamed copy)', () => {
    expect(findCommandDenial(['g', 'push'], policy(['git push']), 'git')).toMatchObject({ command: 'git push' });
    expect(findCommandDenial(['g', 'push'], policy(['git push']))).toBeUndefined();
  });

  it('keeps every default rule a valid single command', () => {
    for (const rule of DEFAULT_DENIED_COMMANDS) expect(commandRuleProblem(rule)).toBeUndefined();
  });
});
