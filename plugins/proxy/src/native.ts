/**
 * @fence/native's addon, loaded lazily and only when a run needs it (a tunnel handoff, `-p`):
 * without it the proxies splice in Node and `-p` is refused.
 */
import type { FdSender } from './tunnel.js';

/** The part of the addon this plugin uses. */
export interface ProxyAddon {
  sendFd?: FdSender;
  /** A listening Unix socket at `path` (close-on-exec); its descriptor. */
  listenUnix?: (path: string, backlog: number) => number;
}

interface NativeModule {
  addon(): ProxyAddon | undefined;
}

/** The addon, or undefined when @fence/native or its addon is not built. */
export async function loadAddon(): Promise<ProxyAddon | undefined> {
  // A literal specifier: the CLI bundler must see it to ship the package with the bundle.
  const m = await import('@fence/native').then(
    (m: { default?: NativeModule } & Partial<NativeModule>) => (typeof m.addon === 'function' ? (m as NativeModule) : m.default),
    () => undefined,
  );
  try {
    return m?.addon();
  } catch {
    return undefined;
  }
}

/** addon.sendFd, or undefined when it is not built. */
export async function loadFdSender(): Promise<FdSender | undefined> {
  const addon = await loadAddon();
  return typeof addon?.sendFd === 'function' ? addon.sendFd.bind(addon) : undefined;
}
