/** `fence config show` and `fence config schema`. */
import { jsonSchema, loadPolicy } from '@fence/core';
import { homedir } from 'node:os';
import type { Flags } from '../args.js';

export function configShow(flags: Flags): number {
  const { policy, sources, files } = loadPolicy({
    cwd: process.cwd(),
    home: process.env.HOME ?? homedir(),
    env: process.env,
    settingsFile: flags.settings,
    template: flags.template,
  });
  process.stdout.write(`${JSON.stringify({ policy, sources, files }, null, 2)}\n`);
  return 0;
}

export function configSchema(): number {
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
