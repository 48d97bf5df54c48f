/**
 * Optional packages, loaded lazily so that a missing or broken build only changes the launch path:
 * without @fence/native's helper the sandbox falls back to bwrap `--seccomp` (and no proxy bridges).
 */
import { errors, type HelperPlan, type TerminalHost } from '@fence/core';

/** The part of @fence/native this plugin uses. */
export interface NativeModule {
  helperPath(): string | undefined;
  encodeHelperPlan(plan: HelperPlan): Uint8Array;
  addon(): { ttyMakeRaw(fd: number): Uint8Array; ttyRestore(fd: number, saved: Uint8Array): void } | undefined;
}

export interface NativeHelper {
  readonly path: string;
  readonly encode: NativeModule['encodeHelperPlan'];
  /** Raw mode for terminal runs (fence-launch --tty). */
  readonly terminal: TerminalHost;
}

/** Raw mode through the addon, loaded when a terminal run starts: other runs never load it. */
function terminalHost(m: NativeModule): TerminalHost {
  return {
    makeRaw(fd) {
      const addon = m.addon();
      if (!addon) throw errors.nativeMissing('a terminal run (raw mode for your terminal)');
      const saved = addon.ttyMakeRaw(fd);
      return () => addon.ttyRestore(fd, saved);
    },
  };
}

/** The part of @fence/plugin-seccomp the fallback uses. */
export interface SeccompModule {
  buildSeccompProgram(options: { arch: 'x86_64' | 'aarch64'; allowUnixSockets: boolean }): Uint8Array;
}

let native: Promise<NativeModule | undefined> | undefined;

export function loadNative(): Promise<NativeModule | undefined> {
  // Literal specifiers: the CLI bundler must see them to ship these packages with the bundle.
  native ??= import('@fence/native').then(
    (m: { default?: NativeModule } & Partial<NativeModule>) => (typeof m.helperPath === 'function' ? (m as NativeModule) : m.default),
    () => undefined,
  );
  return native;
}

/** The helper executable, or undefined when @fence/native is not built. */
export async function nativeHelper(): Promise<NativeHelper | undefined> {
  const m = await loadNative();
  try {
    const path = m?.helperPath();
    return path && m ? { path, encode: (plan) => m.encodeHelperPlan(plan), terminal: terminalHost(m) } : undefined;
  } catch {
    return undefined;
  }
}

export function loadSeccomp(): Promise<SeccompModule | undefined> {
  return import('@fence/plugin-seccomp').then(
    (m: Partial<SeccompModule>) => (typeof m.buildSeccompProgram === 'function' ? (m as SeccompModule) : undefined),
    () => undefined,
  );
}
