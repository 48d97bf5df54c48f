/** Builds a sandbox session from CLI flags: built-in layers for this platform plus --plugin ones. */
import { createSandbox, loadPlugins, type Logger, type Sandbox } from '@fence/core';
import type { Flags } from './args.js';
import { cliLogger } from './logger.js';
import { builtInPlugins } from './plugins.js';

export async function sandboxFromFlags(flags: Flags, logger: Logger | undefined = cliLogger(flags)): Promise<Sandbox> {
  const cwd = process.cwd();
  const [builtIn, extra] = await Promise.all([builtInPlugins(), loadPlugins(flags.plugins, cwd)]);
  return createSandbox({
    plugins: [...builtIn, ...extra],
    cwd,
    settingsFile: flags.settings,
    template: flags.template,
    debug: flags.debug,
    monitor: flags.monitor,
    strict: flags.strict,
    ports: flags.ports,
    logger,
  });
}
