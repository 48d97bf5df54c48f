/**
 * Access to @fence/native, which is optional: it needs a C compiler at install time, and without
 * it Fence still runs (bwrap drops the Landlock layer with a note). Loaded lazily so a missing or
 * broken native build only makes this layer absent.
 */

/** The part of @fence/native's API this plugin uses. */
export interface NativeAddon {
  /** landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the ABI, or ≤ 0 / -errno when unsupported. */
  landlockAbiVersion(): number;
  /** landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_ERRATA): the fixed-errata bit mask. */
  landlockErrata(): number;
}

export interface NativeModule {
  addon(): NativeAddon | undefined;
  helperPath(): string | undefined;
  encodeHelperPlan(plan: import('@fence/core').HelperPlan): Uint8Array;
}

// A variable specifier keeps TypeScript from requiring the package at build time.
const NATIVE_PACKAGE = '@fence/native';

let loaded: Promise<NativeModule | undefined> | undefined;

export function loadNative(): Promise<NativeModule | undefined> {
  loaded ??= import(NATIVE_PACKAGE).then(
    (m: { default?: NativeModule } & Partial<NativeModule>) => (typeof m.addon === 'function' ? (m as NativeModule) : m.default),
    () => undefined,
  );
  return loaded;
}
