/**
 * Where the programs of single-word deny rules live on this machine, for `runtimeExecPolicy`
 * "path": every file a name resolves to on PATH and in the usual directories (symlinks resolved,
 * so `/bin/su` and `/usr/bin/su` are one file), and which other names run the same file (a
 * multicall binary such as busybox, or `reboot` → `systemctl`): making the file unexecutable
 * takes those with it.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

/** Searched besides PATH: where packages put programs, whatever PATH says today. */
export const USUAL_DIRS: readonly string[] = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Commands that a shell session can hardly do without: losing one to a mask is worth a warning. */
export const CRITICAL_COMMANDS: ReadonlySet<string> = new Set(
  'sh bash dash ash ls cat cp mv rm ln mkdir rmdir chmod touch head tail env echo printf test [ true false grep sed awk find xargs sort uniq tr cut wc tee sleep kill ps id date dirname basename readlink realpath which stat tar gzip'.split(' '),
);

/** A file some denied programs resolve to, and the other names that run it. */
export interface DeniedExecutable {
  /** The real path, made unexecutable. */
  readonly file: string;
  /** The denied programs that resolve to it. */
  readonly programs: readonly string[];
  /** Other program names in the searched directories that run the same file (sorted). */
  readonly sharedWith: readonly string[];
}

/** `dev:ino` of the regular file `path` leads to. */
const identity = (path: string): { id: string } | undefined => {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    return s?.isFile() ? { id: `${s.dev}:${s.ino}` } : undefined;
  } catch {
    return undefined;
  }
};

/** The directories to search: PATH's absolute entries, then the usual ones, each once. */
export function searchDirs(path: string | undefined): string[] {
  const fromPath = (path ?? '').split(delimiter).filter((d) => d.startsWith('/'));
  const real = new Map<string, string>();
  for (const dir of [...fromPath, ...USUAL_DIRS]) {
    try {
      const r = realpathSync.native(dir);
      if (!real.has(r)) real.set(r, dir);
    } catch {
      // A PATH entry that does not exist holds nothing.
    }
  }
  return [...real.keys()];
}

/** Real path → every name in the searched directories that runs it, for files with several. */
export type AliasIndex = Readonly<Record<string, readonly string[]>>;

/**
 * Which names in `dirs` are the same file (symlinks to it, hard links): a stat of every entry, so
 * the plugin computes it in detect(), whose result the kernel caches until a directory changes.
 */
export function aliasIndex(dirs: readonly string[]): AliasIndex {
  const byId = new Map<string, { path: string; names: Set<string> }>();
  for (const dir of dirs) {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isSymbolicLink() && !e.isFile()) continue;
      const path = join(dir, e.name);
      const found = identity(path);
      if (found === undefined) continue;
      const entry = byId.get(found.id) ?? { path, names: new Set<string>() };
      entry.names.add(e.name);
      byId.set(found.id, entry);
    }
  }
  const index: Record<string, string[]> = {};
  for (const { path, names } of byId.values()) {
    if (names.size < 2) continue;
    try {
      index[realpathSync.native(path)] = [...names].sort();
    } catch {
      // Gone since the scan.
    }
  }
  return index;
}

/** The files `programs` run when found in `dirs`, with the names sharing each (from `aliases`). */
export function findDeniedExecutables(programs: readonly string[], dirs: readonly string[], aliases: AliasIndex = aliasIndex(dirs)): DeniedExecutable[] {
  const byFile = new Map<string, Set<string>>();
  for (const program of programs) {
    for (const dir of dirs) {
      const candidate = join(dir, program);
      if (identity(candidate) === undefined) continue;
      const file = realpathSync.native(candidate);
      byFile.set(file, (byFile.get(file) ?? new Set()).add(program));
    }
  }
  return [...byFile].map(([file, found]) => ({
    file,
    programs: [...found].sort(),
    sharedWith: [...new Set([...(aliases[file] ?? []), basename(file)])].filter((n) => !found.has(n)).sort(),
  }));
}
