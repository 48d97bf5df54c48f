/** `fence config show` and `fence config schema`. */
import { existingRealPath, jsonSchema, Kernel, loadPolicy, readableRoots, readIsolated, type Policy, type ReadRoot } from '@fence/core';
import { homedir } from 'node:os';
import type { Flags } from '../args.js';
import { builtInPlugins } from '../plugins.js';

/** What stays readable, as the platform's sandbox layer names its paths (FencePlugin.register). */
async function readable(policy: Policy): Promise<ReadRoot[] | string> {
  if (!readIsolated(policy)) return 'everything but filesystem.denyRead';
  const options = { platform: process.platform, debug: false, monitor: false, strict: false, ports: [] };
  const paths = new Kernel({ plugins: await builtInPlugins(), options, cacheDetection: false }).platformPaths;
  if (!paths) return `unknown: no sandbox layer serves ${process.platform}`;
  return readableRoots(policy, paths, existingRealPath)!;
}

export async function configShow(flags: Flags): Promise<number> {
  const { policy, sources, files } = loadPolicy({
    cwd: process.cwd(),
    home: process.env.HOME ?? homedir(),
    env: process.env,
    settingsFile: flags.settings,
    template: flags.template,
  });
  // The model is the policy's paths once more, with provenance: the plain lists say it for people.
  const { paths: _model, ...shown } = policy;
  process.stdout.write(`${JSON.stringify({ policy: shown, readable: await readable(policy), sources, files }, null, 2)}\n`);
  return 0;
}

export function configSchema(): number {
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
