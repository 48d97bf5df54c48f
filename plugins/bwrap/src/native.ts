/**
 * The native helper (fence-launch), when @fence/native is built: without it the sandbox falls back
 * to bwrap `--seccomp` (and no proxy bridges).
 */
import type { TerminalHost } from '@fence/core';
import { loadNative, nativeMissing, type NativeModule } from '@fence/linux-helper';

export interface NativeHelper {
  readonly path: string;
  /** Raw mode for terminal runs (fence-launch --tty). */
  readonly terminal: TerminalHost;
}

/** Raw mode through the addon, loaded when a terminal run starts: other runs never load it. */
function terminalHost(m: NativeModule): TerminalHost {
  return {
    makeRaw(fd) {
      const addon = m.addon();
      if (!addon) throw nativeMissing('a terminal run (raw mode for your terminal)');
      const saved = addon.ttyMakeRaw(fd);
      return () => addon.ttyRestore(fd, saved);
    },
  };
}

/** The helper executable, or undefined when @fence/native is not built. */
export async function nativeHelper(): Promise<NativeHelper | undefined> {
  const m = await loadNative();
  try {
    const path = m?.helperPath();
    return path && m ? { path, terminal: terminalHost(m) } : undefined;
  } catch {
    return undefined;
  }
}
