/** `fence --linux-features`: what this machine can do, layer by layer, and the resulting sandbox. */
import { Kernel } from '@fence/core';
import type { Flags } from '../args.js';
import { builtInPlugins } from '../plugins.js';
import { featureReport } from '../render/features.js';

export async function showFeatures(flags: Flags): Promise<number> {
  const plugins = await builtInPlugins();
  const kernel = new Kernel({
    plugins,
    cacheDetection: false, // the report must be true to the machine right now
    options: { platform: process.platform, debug: flags.debug, monitor: true, strict: false, ports: [] },
  });
  const report = await kernel.detect();
  const title = process.platform === 'linux' ? 'Linux Sandbox Features' : `Sandbox features (${process.platform})`;
  process.stdout.write(`${featureReport(report, kernel.platformPlugins, title)}\n`);
  return 0;
}
