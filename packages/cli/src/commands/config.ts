/** `fence config show` and `fence config schema`. */
import { existingRealPath, jsonSchema, loadPolicy, readableRoots } from '@fence/core';
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
  // The model is the policy's paths once more, with provenance: the plain lists say it for people.
  const { paths: _model, ...shown } = policy;
  const platform = process.platform === 'darwin' ? 'darwin' : 'linux';
  const readable = readableRoots(policy, platform, existingRealPath) ?? 'everything but filesystem.denyRead';
  process.stdout.write(`${JSON.stringify({ policy: shown, readable, sources, files }, null, 2)}\n`);
  return 0;
}

export function configSchema(): number {
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
