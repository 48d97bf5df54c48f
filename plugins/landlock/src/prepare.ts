/**
 * The prepare step (PrepareStage.KERNEL_LAYERS): builds the ruleset for this session and hands it
 * to the in-sandbox helper through the session's helper plan. The helper applies it just before execve.
 */
import { statSync } from 'node:fs';
import { errors, existingRealPath, note, Tokens, type DetectionReport, type LaunchPlan, type PluginHost } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { buildLandlockRuleset, describeRuleset, missingFeatures, NEEDED_DEV_NODES } from './landlock-rules.js';
import { readablePaths, writablePaths } from './writable-paths.js';

/**
 * Whether the sandbox gets its own network namespace. bwrap reports it as a fact; an active bwrap
 * that says nothing is assumed to unshare the network (its default). Without bwrap there is none.
 */
export function sandboxHasNetns(report: DetectionReport): boolean {
  const bwrap = report.get('bwrap');
  if (!bwrap || bwrap.status === 'absent') return false;
  return bwrap.facts?.['netns'] !== false;
}

export async function prepareLandlock(kernel: PluginHost, plan: LaunchPlan, report: DetectionReport): Promise<void> {
  const logger = kernel.resolve(Tokens.Logger);
  const abi = Number(report.get('landlock')?.facts?.['abi'] ?? 0);
  const { policy } = plan;
  const netns = sandboxHasNetns(report);

  const missing = missingFeatures({ abi, netns, policy });
  if (missing.length && kernel.options.strict) throw errors.layerUnavailable('landlock', missing.join('; '));
  for (const m of missing) note(plan, 'landlock', `Degraded: ${m}`);

  const writable = await writablePaths(policy.paths.allowWrite);
  for (const path of writable.skipped) logger.debug('landlock', `Skipped allowWrite (does not exist): ${path}`);
  const readable = await readablePaths(policy);
  for (const path of readable?.skipped ?? []) logger.debug('landlock', `Skipped readable path (does not exist): ${path}`);

  // With devices.mode "host" the host's whole /dev; otherwise what devices.allow passes through, by
  // the real paths the sandbox shows (the sandbox layer checked them when the session started).
  const devices = policy.devices.mode === 'host' ? ['/dev'] : policy.devices.allow.map((path) => existingRealPath(path) ?? path);
  const passedDevices = devices.map((path) => ({ path, isDirectory: statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false }));

  const ruleset = buildLandlockRuleset({
    abi,
    policy,
    writablePaths: writable.existing,
    readablePaths: readable?.existing,
    devNodes: NEEDED_DEV_NODES,
    passedDevices,
    netns,
    // Without a network namespace these are the ports the command may connect to: the proxies, and
    // the host loopback ports the policy lists (Landlock cannot tell loopback from other addresses).
    proxyPorts: [policy.network.httpProxyPort, policy.network.socksProxyPort, ...(policy.network.allowLocalOutbound ? policy.network.allowLocalOutboundPorts : [])],
    exposedPorts: kernel.options.ports,
  });
  helperSession(kernel).plan.landlock = ruleset;

  logger.debug('landlock', `Created ruleset (ABI v${ruleset.abi})`);
  for (const line of describeRuleset(ruleset)) logger.debug('landlock', line);
  // The helper applies the ruleset in the sandbox, where no logger runs; this line stands for it.
  logger.debug('landlock', `Applied restrictions (ABI v${ruleset.abi})`);
}
