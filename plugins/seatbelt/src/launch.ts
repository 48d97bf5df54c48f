/**
 * The effects of the Seatbelt layer: a private tmp in the session's runtime directory, a log tag
 * for this session, and the `sandbox-exec -p <profile>` wrapper.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { note, type LaunchPlan, type PluginHost } from '@fence/core';
import { SANDBOX_EXEC } from './detect.js';
import { buildSeatbeltProfile } from './seatbelt-profile.js';

/** Adds the sandbox-exec wrapper to the plan; returns the session's log tag. */
export function prepareSeatbelt(kernel: PluginHost, plan: LaunchPlan): string {
  mkdirSync(join(plan.runtimeDir(), 'tmp'), { recursive: true, mode: 0o700 });
  // The real path (/private/var/folders/…, not /var/folders/…): Seatbelt matches resolved paths,
  // and the command sees the same spelling in TMPDIR as in its own getcwd().
  const tmpDir = realpathSync(join(plan.runtimeDir(), 'tmp'));
  const logTag = `fence-${randomBytes(6).toString('hex')}`;
  const { network } = plan.policy;
  const profile = buildSeatbeltProfile(plan.policy, {
    httpProxyPort: network.httpProxyPort,
    socksProxyPort: network.socksProxyPort,
    exposedPorts: kernel.options.ports,
    tmpDir,
    logTag,
    unexecutable: plan.exec.unexecutable,
  });
  plan.wrappers.push({ layer: 'seatbelt', argv: [SANDBOX_EXEC, '-p', profile] });
  plan.env.TMPDIR = tmpDir;
  note(plan, 'seatbelt', `profile: ${profile.split('\n').length} lines, log tag ${logTag}, tmp ${tmpDir}`);
  return logTag;
}
