/** Builds a sandbox session from CLI flags: built-in layers for this platform plus --plugin ones. */
import { basename, dirname, resolve } from 'node:path';
import { createSandbox, type Logger, type ProxyServiceOptions, type Sandbox } from '@fence/core';
import type { Flags } from './args.js';
import { cliLogger } from './logger.js';
import { builtInPlugins } from './plugins.js';

/**
 * Fence's own code on disk, which the next run loads on the host: this package (dist/fence.cjs is
 * argv[1]), or every @fence package when installed under node_modules/@fence.
 */
function ownInstallation(): string[] {
  const root = resolve(dirname(process.argv[1] ?? '.'), '..');
  return [basename(dirname(root)) === '@fence' ? dirname(root) : root];
}

/** `proxyService`: reach the proxies through the shared service (runs the plan cache may replay). */
export async function sandboxFromFlags(flags: Flags, logger: Logger | undefined = cliLogger(flags), proxyService?: ProxyServiceOptions): Promise<Sandbox> {
  return createSandbox({
    plugins: await builtInPlugins(),
    pluginNames: flags.plugins,
    trustedPaths: ownInstallation(),
    cwd: process.cwd(),
    settingsFile: flags.settings,
    template: flags.template,
    debug: flags.debug,
    monitor: flags.monitor,
    strict: flags.strict,
    ports: flags.ports,
    ...(proxyService && { proxyService }),
    logger,
  });
}
