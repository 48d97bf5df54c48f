/**
 * `fence --landlock-apply -- <cmd>` (seed compatibility): hands the plan in FENCE_LAUNCH_PLAN to
 * the native helper via the addon's execve; the helper applies it and execs the command. Landlock
 * is never applied to this multi-threaded Node process itself.
 */
import { errors } from '@fence/core';
import { addon, helperPath } from '@fence/native';

export function landlockApply(command: readonly string[]): number {
  const native = addon();
  const helper = helperPath();
  if (!native || !helper) {
    throw errors.nativeMissing('--landlock-apply');
  }
  if (!process.env.FENCE_LAUNCH_PLAN) {
    throw errors.flagInvalid('--landlock-apply', 'FENCE_LAUNCH_PLAN is not set; it carries the encoded policy (set by Fence itself)');
  }
  const env = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  native.execve(helper, [helper, '--', ...command], env);
  return 126; // not reached: execve replaces this process or throws
}
