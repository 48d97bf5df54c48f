/**
 * Access to @fence/native, which is optional at run time: it needs a C compiler at install time,
 * and without it Fence still runs (bwrap drops the Landlock layer with a note). Imported lazily so a
 * missing or broken native package only makes this layer absent.
 */
export type NativeModule = typeof import('@fence/native');

let loaded: Promise<NativeModule | undefined> | undefined;

export function loadNative(): Promise<NativeModule | undefined> {
  loaded ??= import('@fence/native').then(
    (m) => m,
    () => undefined,
  );
  return loaded;
}
