/**
 * The command's environment: the caller's, minus variables that change how programs load
 * (LD_*, DYLD_*) and Fence's internal ones, plus what the plugins set.
 */
const INTERNAL = /^FENCE_(?!SANDBOX$)/;
const LOADER = /^(LD_|DYLD_)/;

export function commandEnvironment(
  base: NodeJS.ProcessEnv,
  changes: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || LOADER.test(k) || INTERNAL.test(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  env.FENCE_SANDBOX = '1';
  return env;
}
