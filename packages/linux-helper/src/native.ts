/**
 * The one loader of @fence/native. The package is optional at run time (its files are prebuilt in
 * the platform package or built at install with a C compiler; without them Fence runs degraded
 * and says so), and it is loaded at run time only, never while the CLI's startup snapshot is built
 * (its paths would be the build machine's).
 */
export type NativeModule = typeof import('@fence/native');

let native: Promise<NativeModule | undefined> | undefined;

/** The package, or undefined when it is not installed. */
export function loadNative(): Promise<NativeModule | undefined> {
  // A literal specifier: the CLI bundler must see it to ship the package with the bundle.
  native ??= import('@fence/native').then(
    (m: Partial<NativeModule> & { default?: NativeModule }) => (typeof m.helperPath === 'function' ? (m as NativeModule) : m.default),
    () => undefined,
  );
  return native;
}

/**
 * The addon, typed as the part the caller uses, when it has every one of `methods` (an older build
 * may lack some); undefined when it is not built or does not load.
 */
export async function addonWith<T>(...methods: readonly (keyof T & string)[]): Promise<T | undefined> {
  const m = await loadNative();
  try {
    const addon = m?.addon() as Partial<Record<string, unknown>> | undefined;
    return addon && methods.every((k) => typeof addon[k] === 'function') ? (addon as T) : undefined;
  } catch {
    return undefined;
  }
}
