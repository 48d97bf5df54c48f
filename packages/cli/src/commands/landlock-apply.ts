/**
 * `fence --landlock-apply -- <cmd>` (SPEC §1, internal): hands the helper plan in FENCE_LAUNCH_PLAN
 * (base64) to the native helper via the addon's execve; the helper applies it and execs the command. Landlock
 * is never applied to this multi-threaded Node process itself.
 */
import { errors } from '@fence/core';
import { loadNative, nativeMissing } from '@fence/linux-helper';

export async function landlockApply(command: readonly string[]): Promise<number> {
  const m = await loadNative();
  const native = m?.addon();
  const helper = m?.helperPath();
  if (!native || !helper) {
    throw nativeMissing('--landlock-apply');
  }
  if (!process.env.FENCE_LAUNCH_PLAN) {
    throw errors.flagInvalid('--landlock-apply', 'FENCE_LAUNCH_PLAN is not set; it carries the encoded policy (set by Fence itself)');
  }
  const env = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  native.execve(helper, [helper, '--', ...command], env);
  return 126; // not reached: execve replaces this process or throws
}
