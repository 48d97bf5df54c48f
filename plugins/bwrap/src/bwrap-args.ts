/**
 * The bubblewrap argument list, built from plain data (no fs): whoever builds this argv owns the
 * policy (bubblewrap's SECURITY.md), so this is security code and is tested argv for argv.
 *
 * Why the order matters:
 *  1. Namespace and capability options come first; they apply to the whole sandbox.
 *  2. `--ro-bind / /` makes everything readable and nothing writable; `--dev`, `--proc` and the
 *     private `--tmpfs /tmp` replace the host's. Every later mount lands on top of these.
 *  3. All other mounts are sorted by depth, ancestors first, because a mount hides whatever was
 *     mounted below its path before it. The most specific rule therefore wins: allowWrite `~` with
 *     denyRead `~/.ssh` hides `.ssh`; denyRead `~` with allowWrite `~/proj` shows `proj` again.
 *     At the same path the stronger rule is mounted last: write < hide < read-only.
 *  4. denyWrite and the mandatory paths win over allowWrite at any depth: a writable root inside
 *     one of them is dropped, so no later bind can make it writable again.
 *  5. A read-only path inside a writable root is protected against `rm`/`mv` because it is a mount
 *     point (EBUSY); every directory between the root and it is bound onto itself for the same
 *     reason, so `mv .git x && mkdir .git` cannot put a fresh `.git/hooks` at the old path.
 *  6. A hidden directory's tmpfs stays writable until every mount inside it exists (bwrap creates
 *     their mount points), then `--remount-ro` (not recursive) seals it.
 *  7. Every host path is bound by descriptor (`--bind-fd`, `--ro-bind-fd`), never by name: the
 *     effects opened and checked each one (bind-fds.ts), and bwrap compares the mount with the
 *     descriptor, so a path swapped for a symlink while Fence starts cannot redirect a mount. Only
 *     `/` and `/dev/null` are bound by name: nothing in the sandbox can replace them.
 */

import { isWithin } from '@fence/core';

export type PathKind = 'file' | 'dir';

export interface PathEntry {
  readonly path: string;
  readonly kind: PathKind;
}

/** The mount layout, gathered by effects beforehand. Paths are absolute realpaths. */
export interface BwrapLayout {
  /** Create a network namespace (only loopback inside). */
  readonly netns: boolean;
  /**
   * bwrap runs inside a user + network namespace Fence made (`fence-launch --netns`), as its root:
   * the command gets these ids back (`--uid`, `--gid`).
   */
  readonly ids?: { readonly uid: number; readonly gid: number };
  /** bwrap knows `--disable-userns` (0.8.0+): no nested user namespaces. */
  readonly disableUserns: boolean;
  readonly cwd: string;
  /** Existing allowWrite paths. */
  readonly allowWrite: readonly string[];
  /** Existing denyRead paths: directories get an empty tmpfs, files `/dev/null`. */
  readonly denyRead: readonly PathEntry[];
  /** Existing denyWrite paths. */
  readonly denyWrite: readonly string[];
  /**
   * Mandatory write protection: existing paths, and the placeholders created for missing names
   * (bound read-only onto themselves); `pinned`: directories bound onto themselves only, so that
   * they cannot be moved away (the git directories whose content the creation guard protects).
   */
  readonly protect: { readonly existing: readonly string[]; readonly missing: readonly string[]; readonly pinned?: readonly string[] };
  /**
   * Read isolation (defaultDenyRead): the readable roots, shown read-only where a hidden directory
   * covers them (a writable one is shown by its own mount).
   */
  readonly readable?: readonly string[];
  /** The in-sandbox helper, when it has to be made visible (it may live under /tmp). */
  readonly helper?: string;
  /**
   * What Fence loads (policy.trusted: its own installation, settings, plugins): read-only like
   * denyWrite, and shown when under the private /tmp, so `fence` itself runs inside (an agent's
   * hook calls it).
   */
  readonly trusted?: readonly string[];
  /** Files shown inside with other content, read-only (a repository's `info/exclude` naming the placeholders: git-exclude.ts). */
  readonly data?: readonly string[];
  /**
   * The repository holding a working directory under /tmp (see tmp-project.ts): shown read-only,
   * as the host is everywhere else, so git finds its `.git` from a subdirectory.
   */
  readonly tmpProject?: string;
  /**
   * devices (absent: a minimal /dev alone). `host`: the host's /dev. Otherwise bwrap's own /dev,
   * with each passed node bound from the host's with device access and each link made again
   * (devices.ts). Only root can change names in the host's /dev and the sandbox cannot reach it,
   * so the nodes are bound by name.
   */
  readonly devices?: { readonly host: boolean; readonly nodes: readonly string[]; readonly links: readonly { readonly path: string; readonly target: string }[] };
}

/** Everything the builder needs: the layout and the descriptors the effects opened for it. */
export interface BwrapInput extends BwrapLayout {
  /** The descriptor (number in bwrap) of each path `bindPaths` lists. */
  readonly bindFds: ReadonlyMap<string, number>;
  /** Descriptor of a seccomp program for `--seccomp` (fallback without the helper). */
  readonly seccompFd?: number;
  /** The descriptor (number in bwrap) holding the content of each `data` path. */
  readonly dataFds?: ReadonlyMap<string, number>;
}

/** A host path the mounts bind onto itself; `kind` when the layout alone tells what it must be. */
export interface BindPath {
  readonly path: string;
  readonly kind?: PathKind;
}

type MountKind = 'write' | 'show' | 'pin' | 'hide-dir' | 'hide-file' | 'read-only' | 'placeholder' | 'data';

interface Mount {
  readonly path: string;
  readonly kind: MountKind;
}

/** Later wins at the same path. */
const PRECEDENCE: Record<MountKind, number> = {
  write: 0,
  pin: 0,
  show: 1,
  'hide-dir': 2,
  'hide-file': 2,
  'read-only': 3,
  placeholder: 3,
  data: 4,
};

/** What a path looks like inside the sandbox, decided by the deepest mount covering it. */
export type Visibility = 'hidden' | 'read-only' | 'writable';

export { isWithin };

const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);

function parents(path: string, root: string): string[] {
  const out: string[] = [];
  for (let p = path.slice(0, path.lastIndexOf('/')); p.length > root.length; p = p.slice(0, p.lastIndexOf('/'))) out.push(p);
  return out;
}

function visibilityOf(path: string, mounts: readonly Mount[]): Visibility {
  let best: Mount | undefined;
  for (const m of mounts) {
    if (m.path === path || !isWithin(path, m.path)) continue;
    const deeper = !best || depth(m.path) > depth(best.path);
    if (deeper || (m.path === best!.path && PRECEDENCE[m.kind] >= PRECEDENCE[best!.kind])) best = m;
  }
  // /tmp itself is the private tmpfs (writable); only what the host has below it is hidden.
  if (!best) return path === '/tmp' ? 'writable' : isWithin(path, '/tmp') ? 'hidden' : 'read-only';
  if (best.kind === 'write' || best.kind === 'pin') return 'writable';
  if (best.kind === 'show') return 'read-only';
  return best.kind === 'read-only' ? 'read-only' : 'hidden';
}

function writeRootsOf(input: BwrapLayout): string[] {
  const readOnly = [...input.denyWrite, ...input.protect.existing, ...input.protect.missing];
  return input.allowWrite.filter((w) => !readOnly.some((r) => isWithin(w, r)));
}

/** Writable roots, hidden paths and paths kept visible under /tmp: what decides visibility. */
function layoutMounts(input: BwrapLayout): Mount[] {
  const base: Mount[] = [
    ...writeRootsOf(input).map((path): Mount => ({ path, kind: 'write' })),
    ...input.denyRead.map((e): Mount => ({ path: e.path, kind: e.kind === 'dir' ? 'hide-dir' : 'hide-file' })),
  ];
  // The repository of a working directory under /tmp, unless a rule covers it (denyRead wins).
  const project = input.tmpProject;
  if (project && !base.some((m) => isWithin(project, m.path))) base.push({ path: project, kind: 'show' });
  // The working directory, the helper and Fence itself (under /tmp only: read isolation decides
  // elsewhere) must stay reachable even under the private /tmp, and the readable roots under the
  // directories read isolation hides (shallowest first: one covers the deeper).
  const readable = [...(input.readable ?? [])].sort((a, b) => depth(a) - depth(b));
  const fence = (input.trusted ?? []).filter((p) => isWithin(p, '/tmp'));
  for (const path of [input.cwd, ...(input.helper ? [input.helper] : []), ...fence, ...readable]) {
    if (visibilityOf(path, base) === 'hidden' && !base.some((m) => m.path === path)) base.push({ path, kind: 'show' });
  }
  return base.filter((m) => m.kind === 'write' || m.kind === 'show' || visibilityOf(m.path, base) !== 'hidden');
}

/** How a path (not itself one of the rules) looks inside the sandbox. */
export function sandboxVisibility(input: BwrapLayout, path: string): Visibility {
  return visibilityIn(input)(path);
}

/** sandboxVisibility for many paths of one layout: the layout's mounts are worked out once. */
export function visibilityIn(input: BwrapLayout): (path: string) => Visibility {
  const mounts = layoutMounts(input);
  return (path) => visibilityOf(path, mounts);
}

/** The mounts after the base layout, deduplicated, in the order bwrap must perform them. */
export function planMounts(input: BwrapLayout): Mount[] {
  const writeRoots = writeRootsOf(input);
  const shown = layoutMounts(input);
  const guarded: Mount[] = [
    ...input.denyWrite.map((path): Mount => ({ path, kind: 'read-only' })),
    ...input.protect.existing.map((path): Mount => ({ path, kind: 'read-only' })),
    ...input.protect.missing.map((path): Mount => ({ path, kind: 'placeholder' })),
    ...(input.protect.pinned ?? []).map((path): Mount => ({ path, kind: 'pin' })),
  ].filter((m) => visibilityOf(m.path, shown) === 'writable');
  const pins = new Set<string>();
  for (const g of guarded) {
    const root = writeRoots.filter((w) => isWithin(g.path, w) && w !== g.path).sort((a, b) => depth(b) - depth(a))[0];
    if (root) for (const p of parents(g.path, root)) pins.add(p);
  }
  const data = (input.data ?? []).map((path): Mount => ({ path, kind: 'data' }));
  const all = [...shown, ...[...pins].map((path): Mount => ({ path, kind: 'pin' })), ...guarded, ...data];
  const unique = new Map<string, Mount>();
  for (const m of all) {
    const prev = unique.get(m.path);
    if (!prev || PRECEDENCE[m.kind] > PRECEDENCE[prev.kind]) unique.set(m.path, m);
  }
  return [...unique.values()].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const BOUND: ReadonlySet<MountKind> = new Set(['write', 'pin', 'show', 'read-only', 'placeholder']);

/** The host paths the mounts bind, each to be opened once by the effects (BwrapInput.bindFds). */
export function bindPaths(layout: BwrapLayout): BindPath[] {
  return planMounts(layout)
    .filter((m) => BOUND.has(m.kind))
    .map((m) => (m.kind === 'pin' ? { path: m.path, kind: 'dir' } : m.kind === 'placeholder' ? { path: m.path, kind: 'file' } : { path: m.path }));
}

function mountArgs(m: Mount, bindFds: ReadonlyMap<string, number>, dataFds: ReadonlyMap<string, number>): string[] {
  const fd = (): string => {
    const n = (m.kind === 'data' ? dataFds : bindFds).get(m.path);
    if (n === undefined) throw new Error(`bwrap args: no descriptor for ${m.path} (bindFds must cover bindPaths, dataFds the data paths)`);
    return String(n);
  };
  switch (m.kind) {
    case 'write':
    case 'pin':
      return ['--bind-fd', fd(), m.path];
    case 'show':
    case 'read-only':
    case 'placeholder':
      return ['--ro-bind-fd', fd(), m.path];
    case 'hide-dir':
      return ['--tmpfs', m.path];
    case 'hide-file':
      return ['--ro-bind', '/dev/null', m.path];
    case 'data':
      return ['--ro-bind-data', fd(), m.path];
  }
}

function devArgs(devices: BwrapLayout['devices']): string[] {
  if (devices?.host) return ['--dev-bind', '/dev', '/dev'];
  return [
    '--dev', '/dev',
    ...(devices?.nodes ?? []).flatMap((path) => ['--dev-bind', path, path]),
    ...(devices?.links ?? []).flatMap((l) => ['--symlink', l.target, l.path]),
  ];
}

/** The bwrap options (without the trailing `--` and the command). */
export function buildBwrapArgs(input: BwrapInput): string[] {
  const mounts = planMounts(input);
  return [
    '--new-session',
    '--die-with-parent',
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    ...(input.netns ? ['--unshare-net'] : []),
    ...(input.ids ? ['--uid', String(input.ids.uid), '--gid', String(input.ids.gid)] : []),
    '--cap-drop',
    'ALL',
    ...(input.disableUserns ? ['--disable-userns'] : []),
    '--ro-bind', '/', '/',
    ...devArgs(input.devices),
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    ...mounts.flatMap((m) => mountArgs(m, input.bindFds, input.dataFds ?? new Map())),
    ...mounts.filter((m) => m.kind === 'hide-dir').flatMap((m) => ['--remount-ro', m.path]),
    ...(input.seccompFd !== undefined ? ['--seccomp', String(input.seccompFd)] : []),
    '--chdir',
    input.cwd,
  ];
}
