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

/** `dev:ino` of the regular file `path` leads to, and its link count. */
const identity = (path: string): { id: string; links: number } | undefined => {
  try {
    const s = statSync(path);
    return s.isFile() ? { id: `${s.dev}:${s.ino}`, links: s.nlink } : undefined;
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

/** The files `programs` run when found in `dirs`, with the names sharing each. */
export function findDeniedExecutables(programs: readonly string[], dirs: readonly string[]): DeniedExecutable[] {
  const byId = new Map<string, { file: string; programs: Set<string> }>();
  let hardLinked = false;
  for (const program of programs) {
    for (const dir of dirs) {
      const candidate = join(dir, program);
      const found = identity(candidate);
      if (found === undefined) continue;
      hardLinked ||= found.links > 1;
      const entry = byId.get(found.id) ?? { file: realpathSync.native(candidate), programs: new Set<string>() };
      entry.programs.add(program);
      byId.set(found.id, entry);
    }
  }
  if (byId.size === 0) return [];
  // Every name in the searched directories that is the same file: a symlink to it, or a hard
  // link (only looked for when a file has several, so a start stats the symlinks only).
  const names = new Map<string, Set<string>>([...byId.keys()].map((id) => [id, new Set<string>()]));
  for (const dir of dirs) {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isSymbolicLink() && !(hardLinked && e.isFile())) continue;
      const found = identity(join(dir, e.name));
      if (found !== undefined) names.get(found.id)?.add(e.name);
    }
  }
  for (const [id, e] of byId) names.get(id)!.add(basename(e.file));
  return [...byId].map(([id, e]) => ({
    file: e.file,
    programs: [...e.programs].sort(),
    sharedWith: [...names.get(id)!].filter((n) => !e.programs.has(n)).sort(),
  }));
}
