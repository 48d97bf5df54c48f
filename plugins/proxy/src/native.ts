/**
 * @fence/native's addon, loaded lazily and only when a tunnel handoff is possible: without it the
 * proxies splice in Node, as they do for socat bridges.
 */
import type { FdSender } from './tunnel.js';

interface NativeModule {
  addon(): { sendFd?: FdSender } | undefined;
}

/** addon.sendFd, or undefined when @fence/native or its addon is not built. */
export async function loadFdSender(): Promise<FdSender | undefined> {
  // A literal specifier: the CLI bundler must see it to ship the package with the bundle.
  const m = await import('@fence/native').then(
    (m: { default?: NativeModule } & Partial<NativeModule>) => (typeof m.addon === 'function' ? (m as NativeModule) : m.default),
    () => undefined,
  );
  try {
    const addon = m?.addon();
    return typeof addon?.sendFd === 'function' ? addon.sendFd.bind(addon) : undefined;
  } catch {
    return undefined;
  }
}
