/**
 * The command's environment: the caller's, minus variables that change how programs load
 * (LD_*, DYLD_*), Fence's internal ones and the secrets the policy removes (`environment`: deny
 * minus allow; the built-in credential list is already in deny, see settings/secrets.ts), plus
 * what the plugins set. Pure.
 */
const INTERNAL = /^FENCE_(?!SANDBOX$)/;
const LOADER = /^(LD_|DYLD_)/;

/** The variables a policy removes: names or globs (`*`), compared without regard to case. */
export interface EnvironmentRules {
  readonly deny: readonly string[];
  readonly allow: readonly string[];
}

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** One regular expression for a list of names and globs; undefined for an empty list. */
function matcher(patterns: readonly string[]): RegExp | undefined {
  if (patterns.length === 0) return undefined;
  // Case-insensitive: a secret spelled `github_token` is still a secret (npm reads lower-case names).
  return new RegExp(`^(?:${patterns.map((p) => p.split('*').map(escape).join('.*')).join('|')})$`, 'i');
}

/** Whether `name` is removed: a deny entry matches it and no allow entry does. */
export function variableRemover(rules: EnvironmentRules): (name: string) => boolean {
  const deny = matcher(rules.deny);
  const allow = matcher(rules.allow);
  return (name) => deny !== undefined && deny.test(name) && !(allow?.test(name) ?? false);
}

export function commandEnvironment(
  base: NodeJS.ProcessEnv,
  changes: Readonly<Record<string, string | undefined>>,
  rules: EnvironmentRules,
): Record<string, string> {
  const removed = variableRemover(rules);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || LOADER.test(k) || INTERNAL.test(k) || removed(k)) continue;
    env[k] = v;
  }
  // The plugins' own variables (proxies, FENCE_SANDBOX) are Fence's, never the caller's secrets.
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  env.FENCE_SANDBOX = '1';
  return env;
}
