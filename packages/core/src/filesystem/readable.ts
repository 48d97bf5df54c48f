/**
 * Read isolation (`defaultDenyRead`, `strictDenyRead`): what stays readable, as roots of the
 * filesystem model that every layer enforces its own way (a mount sandbox hides everything else, a
 * kernel ruleset grants read rights beneath these roots only, a profile allows reads beneath them).
 * Without either setting everything is readable but denyRead. Pure.
 *
 * Always readable: the working directory, allowRead, allowExecute (read and run, not list),
 * allowWrite, and what the sandbox makes itself. With defaultDenyRead also the system paths of the
 * platform, which strictDenyRead leaves out. The platform's two lists are not core's: the sandbox
 * layer of the platform registers them (Tokens.PlatformPaths, see FencePlugin.register).
 */
import type { Policy } from '../policy.js';
import type { PlatformPaths } from '../services.js';
import { isWithin, type PathRule } from './model.js';

export type ReadAccess = 'read' | 'execute' | 'write';

export interface ReadRoot {
  /** Absolute, symlinks resolved (system paths as the platform names them). */
  readonly path: string;
  /** `read`: read, list, run; `execute`: read and run, no listing; `write`: everything. */
  readonly access: ReadAccess;
  /** Where it comes from: `system`, `sandbox`, `working directory` or the setting (`filesystem.allowRead[0]`). */
  readonly from: string;
}

/** Whether the policy isolates reads (strictDenyRead implies defaultDenyRead). */
export const readIsolated = (policy: Pick<Policy, 'filesystem'>): boolean => policy.filesystem.defaultDenyRead || policy.filesystem.strictDenyRead;

/** A rule's root; a glob other than `dir/**` lies in the working directory (refused elsewhere: readableGlobProblem) and adds nothing. */
const fromRules = (rules: readonly PathRule[], access: ReadAccess): ReadRoot[] =>
  rules.filter((r) => !r.glob || r.glob.tree).map((r) => ({ path: r.real, access, from: `filesystem.${r.field}[${r.index}]` }));

/**
 * Why a rule cannot be shown under read isolation: a glob other than `dir/**` outside the working
 * directory, whose matches the mounts cannot show without its whole base.
 */
export function readableGlobProblem(rule: PathRule, cwd: string): string | undefined {
  if (!rule.glob || rule.glob.tree || isWithin(rule.real, cwd)) return undefined;
  return 'is a glob outside the working directory, which read isolation (defaultDenyRead) cannot show by itself; name the directory, or "dir/**"';
}

/**
 * What stays readable under read isolation, or undefined when the policy does not isolate reads.
 * `platform` names the platform's system and sandbox paths; `realpath` resolves the system paths
 * (a merged-/usr system's `/bin` is `/usr/bin`); one that does not exist here is left out.
 */
export function readableRoots(policy: Pick<Policy, 'filesystem' | 'paths' | 'cwd'>, platform: PlatformPaths, realpath: (p: string) => string | undefined): ReadRoot[] | undefined {
  if (!readIsolated(policy)) return undefined;
  const system = policy.filesystem.strictDenyRead ? [] : platform.system;
  const { sandbox } = platform;
  const named = (paths: readonly string[], from: string): ReadRoot[] =>
    paths.flatMap((p) => {
      const real = realpath(p);
      return real === undefined ? [] : [{ path: real, access: 'read' as const, from }];
    });
  return [
    ...named(system, 'system'),
    ...sandbox.map((path) => ({ path, access: 'read' as const, from: 'sandbox' })),
    // Run from `/`, the working directory would be the whole host: it is not made readable then.
    ...(policy.cwd === '/' ? [] : [{ path: policy.cwd, access: 'read' as const, from: 'working directory' }]),
    ...fromRules(policy.paths.allowRead, 'read'),
    ...fromRules(policy.paths.allowExecute, 'execute'),
    ...fromRules(policy.paths.allowWrite, 'write'),
  ];
}
