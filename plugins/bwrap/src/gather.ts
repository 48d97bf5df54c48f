/**
 * Effects before the build: turns the policy's filesystem rules (core's model, resolved once) into
 * the plain data of `BwrapLayout` (existing paths, typed), expanding globs and finding the mandatory
 * paths in one walk. Every rule that cannot be honoured is reported through the logger, never dropped silently.
 * Writable paths are taken as the policy names them (core refused those that lead through a
 * symlink), never re-resolved here: bind-fds.ts then proves each is still that very path.
 */
import { existsSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fenceCacheDirs, ruleMatches, type Logger, type PathRule, type Policy } from '@fence/core';
import { isWithin, visibilityIn, type BwrapLayout, type PathEntry, type PathKind } from './bwrap-args.js';
import { walkTrees } from './glob-expand.js';
import { WalkCache } from './walk-cache.js';
import { readIsolation } from './read-isolation.js';
import { hooksPathDirs } from './git-hooks-path.js';
import type { SweepPlan } from './sweep.js';
import { emptyFinds, gitFinds, gitPlaceholderNames, lstatExists, protectedNamesAt, protectedPathVisitor, SETTINGS_FILES, userSettingsDir } from './mandatory-paths.js';

type Field = 'allowWrite' | 'denyRead' | 'denyWrite';
const FIELDS: readonly Field[] = ['allowWrite', 'denyRead', 'denyWrite'];

/** The policy's paths, before the launch adds the runtime dir, helper and seccomp descriptor. */
export interface GatheredPaths {
  readonly input: BwrapLayout;
  /** What each path was when gathered: the descriptor opened for it later must be the same kind. */
  readonly kinds: ReadonlyMap<string, PathKind>;
  /** Missing protected or denyWrite paths that would be creatable: placeholders must be created for them. */
  readonly placeholders: readonly string[];
  /** Those of `placeholders` that are the policy's own denyWrite paths, not protected names (the creation guard knows only names). */
  readonly denyWriteMissing: readonly string[];
  /**
   * Missing denyWrite paths whose directory is missing too (`.claude/settings.json` in a project
   * with no `.claude`), as creation-guard names `<directory name>/<name>`: no placeholder can
   * hold them, so the guard refuses the name wherever it would be made.
   */
  readonly denyWriteNames: readonly string[];
  /** Protected names that are symlinks in a writable directory: their target is protected, the name is guarded (link-guard.ts). */
  readonly links: readonly string[];
  /** What the close-time search for newly created protected names needs (sweep.ts), placeholders not yet in `seen`. */
  readonly sweep: SweepPlan;
  /** The shared proxy services' directories (existing, resolved): never visible inside. */
  readonly serviceDirs: readonly string[];
}

interface Resolved extends PathEntry {
  /** The entry itself is a symlink (not only one of its parents). */
  readonly link: boolean;
}

/**
 * The entry's real path and kind. `exact` keeps a path that is not itself a symlink as given: a
 * realpath could follow a directory swapped for a symlink since the policy was resolved, and
 * the descriptor check only proves the path it is given.
 */
function resolveEntry(path: string, exact = false): Resolved | undefined {
  try {
    const own = lstatSync(path);
    const link = own.isSymbolicLink();
    if (exact && !link) return { path, kind: own.isDirectory() ? 'dir' : 'file', link };
    const real = realpathSync(path);
    return { path: real, kind: statSync(real).isDirectory() ? 'dir' : 'file', link };
  } catch {
    return undefined;
  }
}

/**
 * A symlinked allowWrite entry (say `dist -> ~`, planted by an earlier run) would make its target
 * writable; it is honoured only when the target is already inside another writable path.
 */
function writableEntries(entries: readonly { pattern: string; r: Resolved }[], logger: Logger): string[] {
  const direct = entries.filter((e) => !e.r.link).map((e) => e.r.path);
  const out = [...direct];
  for (const { pattern, r } of entries.filter((e) => e.r.link)) {
    if (direct.some((d) => isWithin(r.path, d))) out.push(r.path);
    else logger.warn(`filesystem.allowWrite: "${pattern}" is a symlink to ${r.path}, outside the writable paths; not made writable (name the target itself to allow it)`);
  }
  return [...new Set(out)];
}

/**
 * `createGuard`: the creation guard runs (create-guard.ts). It refuses every write to a protected
 * name inside a git directory, so those names need no mount of their own: the git directory is
 * pinned instead (bound onto itself, so it cannot be moved away and replaced by a new one). That
 * is one mount per repository rather than four, which keeps a tree of many nested repositories
 * under the bind limit. A protected git name that is a symlink keeps its read-only bind: the
 * guard knows names, not what a link points at.
 */
export function gatherPaths(policy: Policy, logger: Logger, machine: Pick<BwrapLayout, 'netns' | 'disableUserns'>, createGuard = false): GatheredPaths {
  const { cwd, home } = policy;
  const fs = policy.filesystem;
  const matches = new Map<Field, { pattern: string; path: string }[]>(FIELDS.map((f) => [f, []]));
  const globs: { field: Field; rule: PathRule; pattern: string }[] = [];
  for (const field of FIELDS) {
    for (const rule of policy.paths[field]) {
      // `dir/**` is the directory itself: its mount covers every descendant.
      if (!rule.glob || rule.glob.tree) matches.get(field)!.push({ pattern: rule.written, path: rule.real });
      else if (rule.real === '/') logger.warn(`filesystem.${field}: "${rule.written}" cannot be honoured: a glob at the top of the filesystem would walk every file; start it under a directory`);
      else globs.push({ field, rule, pattern: rule.glob.pattern });
    }
  }

  // Hidden directories need no walking: nothing inside them is visible.
  const hidden = new Set(matches.get('denyRead')!.map((m) => resolveEntry(m.path)).filter((r) => r?.kind === 'dir').map((r) => r!.path));
  const writeHints = [...matches.get('allowWrite')!.map((m) => m.path), ...globs.filter((g) => g.field === 'allowWrite').map((g) => g.rule.real)];
  const searchCwd = writeHints.some((w) => isWithin(w, cwd) || isWithin(cwd, w));
  const finds = emptyFinds();
  const protectedVisit = protectedPathVisitor(fs.allowGitConfig, finds);
  const roots = [...(searchCwd ? [cwd] : []), ...globs.map((g) => g.rule.real).filter((r) => existsSync(r))];
  // The cache key names every input of the visitor below (the rules themselves are Fence's build).
  const cacheKey = JSON.stringify([roots, cwd, searchCwd, [...hidden], globs.map((g) => [g.field, g.pattern]), fs.allowGitConfig]);
  const cacheDir = walkCacheDir(home);
  const entered = new Set<string>();
  walkTrees(roots, (path, entry) => {
    if (hidden.has(path)) return 'skip';
    let seen = searchCwd && isWithin(path, cwd) ? protectedVisit(path, entry) : undefined;
    for (const g of globs) {
      if (!ruleMatches(g.rule, path)) continue;
      matches.get(g.field)!.push({ pattern: g.rule.written, path });
      seen = g.field === 'denyRead' && entry.isDirectory() ? 'skip' : (seen ?? 'keep');
    }
    return seen;
  }, { cache: new WalkCache(cacheDir, cacheKey), entered: (dir) => entered.add(dir) });
  const gitNames = gitFinds(finds, fs.allowGitConfig);
  for (const p of gitNames) finds.found.add(p);
  // A hooks directory named by core.hooksPath is a repository's `hooks` kept elsewhere: denyWrite,
  // so an existing one is read-only and a missing one cannot be made. A symlink is kept like a
  // protected name that is one (its target read-only, the link put back: link-guard.ts).
  for (const dir of hooksPathDirs(finds.gitDirs, home, process.env)) {
    if (resolveEntry(dir)?.link === true) finds.found.add(dir);
    else matches.get('denyWrite')!.push({ pattern: `core.hooksPath ${dir}`, path: dir });
  }
  const guarded = new Set(createGuard ? gitNames.filter((p) => resolveEntry(p)?.link === false) : []);
  for (const g of globs) {
    if (!matches.get(g.field)!.some((m) => m.pattern === g.rule.written)) logger.debug('bwrap', `filesystem.${g.field}: "${g.rule.written}" matches nothing`);
  }

  const kinds = new Map<string, PathKind>();
  const resolved = (field: Field) =>
    matches.get(field)!.flatMap((m) => {
      const r = resolveEntry(m.path, field === 'allowWrite');
      if (!r && field === 'allowWrite') logger.warn(`filesystem.allowWrite: "${m.pattern}" does not exist; skipped (create it first to make it writable)`);
      if (r) kinds.set(r.path, r.kind);
      return r ? [{ pattern: m.pattern, r }] : [];
    });
  const allowWrite = writableEntries(resolved('allowWrite'), logger);
  // Read isolation hides the rest of the host like denyRead and binds the readable roots back
  // (read-isolation.ts); denyRead still wins, so a root inside a denyRead path stays hidden.
  const isolation = readIsolation(policy);
  const denied = resolved('denyRead').map((e) => e.r);
  const denyRead = uniqueEntries([...denied, ...isolation.hidden]);
  const readable = isolation.readable.flatMap((p) => {
    const r = denied.some((d) => isWithin(p, d.path)) ? undefined : resolveEntry(p, true);
    if (r) kinds.set(r.path, r.kind);
    return r ? [r.path] : [];
  });
  // What Fence loads at start-up stays read-only like denyWrite (policy.trusted: settings, plugins, itself).
  // Fence's per-user caches too (detection, walk, plan): a command that rewrote one could hide a
  // protected name from the next run, or hand it a weaker plan.
  const fence = policy.trusted.flatMap((p) => resolveEntry(p) ?? []);
  const caches = fenceCaches(home);
  const trusted = [...fence, ...caches.flatMap((p) => resolveEntry(p) ?? [])];
  const serviceDirs = caches.flatMap((d) => resolveEntry(join(d, PROXY_SERVICES)) ?? []).filter((r) => r.kind === 'dir').map((r) => r.path);
  for (const r of trusted) kinds.set(r.path, r.kind);
  const denyWrite = [...new Set([...resolved('denyWrite').map((e) => e.r.path), ...trusted.map((r) => r.path)])];

  // Top-level names: $HOME, the working directory and every writable directory.
  const tops = [home, cwd, ...allowWrite.filter((w) => kinds.get(w) === 'dir')];
  const candidates = new Set<string>();
  for (const top of new Set(tops)) {
    for (const p of protectedNamesAt(top, fs.allowGitConfig)) {
      if (lstatExists(p)) finds.found.add(p);
      else if (placeholderable(p, fs.allowGitConfig) && existsSync(dirname(p)) && statSync(dirname(p)).isDirectory()) candidates.add(p);
    }
  }
  // Settings discovery reads every parent of the working directory, and the per-user directory.
  for (let dir = dirname(cwd); dir !== dirname(dir); dir = dirname(dir)) {
    for (const name of SETTINGS_FILES) {
      const p = `${dir}/${name}`;
      if (lstatExists(p)) finds.found.add(p);
      else candidates.add(p);
    }
  }
  const userDir = userSettingsDir(home);
  if (lstatExists(userDir)) finds.found.add(userDir);
  else if (existsSync(dirname(userDir))) candidates.add(userDir);
  for (const git of finds.gitDirs) {
    // The walk kept every protected entry of a git directory inside a `.git` tree that it entered,
    // so what it did not see there is missing; a bare repository's entries are looked up.
    const listed = entered.has(git) && (git.endsWith('/.git') || git.includes('/.git/'));
    for (const n of gitPlaceholderNames(fs.allowGitConfig)) {
      const p = `${git}/${n}`;
      if (listed ? !finds.gitEntries.has(p) : !lstatExists(p)) candidates.add(p);
    }
  }
  // A denyWrite path that does not exist yet must not be creatable either.
  const denyWriteCandidates = matches.get('denyWrite')!.filter((m) => !lstatExists(m.path) && existsSync(dirname(m.path))).map((m) => m.path);
  for (const p of denyWriteCandidates) candidates.add(p);

  const existing = new Set<string>();
  for (const r of [...finds.found].filter((p) => !guarded.has(p)).flatMap((p) => resolveEntry(p) ?? [])) {
    existing.add(r.path);
    kinds.set(r.path, r.kind);
  }
  const input: BwrapLayout = {
    ...machine,
    cwd,
    allowWrite,
    denyRead,
    denyWrite,
    trusted: fence.map((r) => r.path),
    protect: { existing: [...existing], missing: [], pinned: createGuard ? pinnedGitDirs(finds.gitDirs, kinds) : [] },
    ...(readable.length > 0 ? { readable } : {}),
  };
  const visibility = visibilityIn(input);
  const placeholders = [...candidates].filter((p) => visibility(p) === 'writable');
  const denyWriteMissing = placeholders.filter((p) => denyWriteCandidates.includes(p));
  const denyWriteNames: string[] = [];
  for (const m of matches.get('denyWrite')!) {
    if (!createGuard || lstatExists(m.path) || existsSync(dirname(m.path)) || visibility(m.path) !== 'writable') continue;
    const name = `${basename(dirname(m.path))}/${basename(m.path)}`;
    // The plan carries names in printable ASCII without spaces or `%` (fence-native's guardLines).
    if (/^[\x21-\x24\x26-\x7e]+$/.test(name)) denyWriteNames.push(name);
    else logger.warn(`denyWrite ${m.path} does not exist and its directory neither: the creation guard cannot hold a name with spaces or non-ASCII characters, so it can be created`);
  }
  const links = [...finds.found].filter((p) => resolveEntry(p)?.link === true && visibility(p) === 'writable');
  const sweep: SweepPlan = {
    walk: searchCwd ? cwd : undefined,
    tops: [...new Set(tops)],
    hidden,
    allowGitConfig: fs.allowGitConfig,
    seen: new Set(finds.found),
    writable: (p) => visibility(p) === 'writable',
  };
  return { input, kinds, placeholders, denyWriteMissing, denyWriteNames: [...new Set(denyWriteNames)], links, sweep, serviceDirs };
}

/** The git directories as they are (a `.git` symlink is not one), recorded as directories for the bind. */
function pinnedGitDirs(gitDirs: ReadonlySet<string>, kinds: Map<string, PathKind>): string[] {
  return [...gitDirs].filter((p) => {
    const r = resolveEntry(p, true);
    if (r?.link !== false || r.kind !== 'dir') return false;
    kinds.set(p, 'dir');
    return true;
  });
}

/** A missing top-level protected path gets a placeholder unless it is a git name that cannot have one. */
const placeholderable = (path: string, allowGitConfig: boolean): boolean => !path.includes('/.git/') || gitPlaceholderNames(allowGitConfig).includes(basename(path));

/**
 * Fence's cache directories (core's fenceCacheDirs: this run's and the default ones), each made
 * (0700) when missing so the sandbox can bind it read-only: one the command created could hold a
 * plan cache entry that a later run's fast path would use (an entry names its own sandbox). Each
 * one's `proxy` directory (the shared proxy services' sockets, KernelOptions.proxyService) is
 * made too, so the sandbox can hide it.
 */
function fenceCaches(home: string): string[] {
  const dirs = [...new Set([dirname(walkCacheDir(home)), ...fenceCacheDirs(process.env)])];
  for (const d of dirs) {
    try {
      mkdirSync(join(d, PROXY_SERVICES), { recursive: true, mode: 0o700 });
    } catch {
      // Not creatable by this user, so not by the command either.
    }
  }
  return dirs;
}

/** The proxy services' directory in each Fence cache directory (the CLI's proxyService.root). */
export const PROXY_SERVICES = 'proxy';

/** Per user, beside the detection cache. */
const walkCacheDir = (home: string): string => `${process.env.XDG_CACHE_HOME || `${home}/.cache`}/fence/walk`;

export { lstatExists };

function uniqueEntries(entries: readonly PathEntry[]): PathEntry[] {
  const byPath = new Map(entries.map((e) => [e.path, { path: e.path, kind: e.kind }]));
  return [...byPath.values()];
}
