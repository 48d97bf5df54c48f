import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSandbox, definePlugin, PrepareStage, type FencePlugin } from '@fence/core';
import { commandPlugin } from '../src/index.js';

const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'fence-command-')));

/** A stand-in sandbox layer: it wraps the command with env(1). */
const wrapper: FencePlugin = definePlugin({
  name: 'wrapper',
  platforms: [process.platform],
  provides: ['test'],
  detect: async () => ({ status: 'available', summary: 'wrapper' }),
  apply(kernel) {
    kernel.hooks.prepare.tap({ name: 'wrapper', stage: PrepareStage.SANDBOX }, (plan) => void plan.wrappers.push({ layer: 'wrapper', argv: ['/usr/bin/env'] }));
  },
});

const quiet = { stdio: ['ignore', 'ignore', 'ignore'] } as const;

describe('the command layer in a library session', () => {
  it('refuses a denied command from run() with the CLI\'s message, and runs the others', async () => {
    const sandbox = await createSandbox({ plugins: [wrapper, commandPlugin], cwd, settings: { command: { deny: ['git push'] } } });
    try {
      await expect(sandbox.run(['sh', '-c', 'true && git push origin'])).rejects.toMatchObject({
        code: 'COMMAND_DENIED',
        message: 'command "git push origin" is denied by command.deny rule "git push"; remove the rule or add an exception to command.allow',
      });
      await expect(sandbox.run('sudo id')).rejects.toMatchObject({ code: 'COMMAND_DENIED' });
      expect(await sandbox.run(['true'], quiet)).toBe(0);
      expect(sandbox.warnings).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });

  it('refuses settings whose rule holds two commands, naming the field', async () => {
    await expect(createSandbox({ plugins: [wrapper, commandPlugin], cwd, settings: { command: { deny: ['git push; rm x'] } } })).rejects.toThrow(
      'command.deny[0]: "git push; rm x" holds 2 commands',
    );
  });

  it('refuses runtimeExecPolicy "argv" where no layer reports execs (fail closed)', async () => {
    await expect(createSandbox({ plugins: [wrapper, commandPlugin], cwd, settings: { command: { runtimeExecPolicy: 'argv' } } })).rejects.toMatchObject({
      code: 'COMMAND_UNENFORCED',
      message: expect.stringMatching(/^command.runtimeExecPolicy "argv" is set but no layer reports the sandbox's execve calls here/),
    });
  });
});
