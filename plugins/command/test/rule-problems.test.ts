import { describe, expect, it } from 'vitest';
import { CommandSchema, SshSchema } from '@fence/core';
import { ruleProblems } from '../src/rule-problems.js';

describe('ruleProblems', () => {
  it('names each rule that is not one command prefix, with its field', () => {
    const command = CommandSchema.parse({ deny: ['git push', 'git push; rm x'], allow: ['$(x) && y'] });
    const ssh = SshSchema.parse({ deniedCommands: ['ls | rm'] });
    expect(ruleProblems({ command, ssh })).toEqual([
      '  command.deny[1]: "git push; rm x" holds 2 commands; write one command prefix per rule (e.g. "git push")',
      '  command.allow[0]: "$(x) && y" holds 3 commands; write one command prefix per rule (e.g. "x")',
      '  ssh.deniedCommands[0]: "ls | rm" holds 2 commands; write one command prefix per rule (e.g. "ls")',
    ]);
  });
});
