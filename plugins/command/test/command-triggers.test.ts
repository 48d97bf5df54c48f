import { describe, expect, it } from 'vitest';
import { SshSchema, type Policy } from '@fence/core';
import { findCommandDenial } from '../src/command-policy.js';
import { DEFAULT_DENIED_COMMANDS } from '../src/command-rules.js';
import { commandTriggers } from '../src/command-triggers.js';

const policy = (deny: string[] = [], useDefaults = true, ssh = SshSchema.parse({})): Pick<Policy, 'command' | 'ssh'> => ({
  command: { deny, allow: [], useDefaults, runtimeExecPolicy: 'path', acceptSharedBinaryCannotRuntimeDeny: [] },
  ssh,
});

/** Whether a launcher that only knows the triggers must hand `argv` to the policy. */
const needsPolicy = (argv: readonly string[], p: Pick<Policy, 'command' | 'ssh'>): boolean => {
  const { names, prefixes } = commandTriggers(p);
  const base = argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1);
  return names.includes(base) || prefixes.some((x) => base.startsWith(x));
};

// Command lines the policy refuses, by every route command-views.ts knows.
const REFUSED: string[][] = [
  ['sudo', 'ls'],
  ['/usr/bin/sudo', 'ls'],
  ['git', 'push'],
  ['git', '-C', 'x', 'push'],
  ['git-push', 'origin'],
  ['env', 'X=1', 'git', 'push'],
  ['nice', '-n', '5', 'git', 'push'],
  ['timeout', '5', 'sudo', 'ls'],
  ['bash', '-c', 'echo hi && git push'],
  ['sh', '-xc', 'sudo ls'],
  ['/lib64/ld-linux-x86-64.so.2', '/usr/bin/git', 'push'],
  ['xargs', 'git', 'push'],
  ['rm', '-rf', '/'],
];

describe('commandTriggers', () => {
  it('names the program of every command line the policy refuses', () => {
    const p = policy(['git push']);
    for (const argv of REFUSED) {
      expect(findCommandDenial(argv, p), argv.join(' ')).toBeDefined();
      expect(needsPolicy(argv, p), argv.join(' ')).toBe(true);
    }
  });

  it('names the first word of every built-in rule', () => {
    for (const rule of DEFAULT_DENIED_COMMANDS) expect(needsPolicy(rule.split(' '), policy()), rule).toBe(true);
  });

  it('leaves out programs no rule can reach, which then run without the policy', () => {
    const p = policy(['git push']);
    for (const argv of [['true'], ['cat', 'sudo'], ['python3', '-c', 'import os; os.system("sudo ls")'], ['make', 'git', 'push']]) {
      expect(needsPolicy(argv, p), argv.join(' ')).toBe(false);
      expect(findCommandDenial(argv, p)).toBeUndefined();
    }
  });

  it('names nothing when no rule exists and the SSH policy is off, and ssh when it is on', () => {
    expect(commandTriggers(policy([], false))).toEqual({ names: [], prefixes: [] });
    expect(commandTriggers(policy([], false, SshSchema.parse({ allowedHosts: ['example.com'] }))).names).toContain('ssh');
  });
});
