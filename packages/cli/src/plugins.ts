/**
 * The built-in layers for this platform only: other platforms' plugins are never loaded, so
 * start-up pays only for what can run here.
 */
import type { FencePlugin } from '@fence/core';

type Loader = () => Promise<{ default: FencePlugin }>;

const BUILT_IN: Partial<Record<NodeJS.Platform, readonly Loader[]>> = {
  // In the order the feature report and the summary line present them (SPEC §4.6).
  linux: [
    () => import('@fence/plugin-bwrap'),
    () => import('@fence/plugin-seccomp'),
    () => import('@fence/plugin-landlock'),
    () => import('@fence/plugin-proxy'),
    () => import('@fence/plugin-ebpf'),
    () => import('@fence/plugin-command'),
  ],
  darwin: [() => import('@fence/plugin-proxy'), () => import('@fence/plugin-seatbelt'), () => import('@fence/plugin-command')],
};

export async function builtInPlugins(platform: NodeJS.Platform = process.platform): Promise<FencePlugin[]> {
  const loaders = BUILT_IN[platform] ?? [];
  return (await Promise.all(loaders.map((load) => load()))).map((m) => m.default);
}
