/**
 * A cache of the shared walk (glob-expand.ts) that is provably fresh, so a start in an unchanged
 * 100k-file tree stats its directories instead of reading them (SPEC §7: ≤ 30 ms).
 *
 * Why it is fresh: a directory's entries can only change (create, unlink, rename in or out, a
 * file replaced by a directory) by updating that directory's ctime, and ctime cannot be set by a
 * program (utimes sets mtime, and moves ctime to now); a mount or unmount on it changes the
 * device and inode that stat reports. A cached listing is used only when the directory's device,
 * inode, ctime and mtime are those it was read with; every directory the walk enters is checked,
 * so a change at any depth is seen. (A network file system that caches attributes on the client
 * can report a stale ctime for a change made on another machine, as it can a stale listing.) What remains is the
 * timestamp granularity (coarse kernel clocks, 1–2 s on some file systems): a directory whose
 * ctime is within `racyNs` of the walk's start could change again within the same tick, so it is
 * not stored and is read again next time (git's "racy" rule).
 *
 * Only what the visitor needs again is stored per directory: its sub-directories and the
 * entries the visitor kept or skipped. The key names everything the visitor depends on; Fence's
 * own build is added here, so an upgrade never reuses a listing filtered by older rules. The
 * file must belong to this user and be writable by no one else; gather.ts keeps its directory
 * read-only inside the sandbox, so a command cannot poison the next run's walk.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FORMAT = 2; // 2: the mandatory-path visitor keeps HEAD files (bare repositories)
const NS_PER_MS = 1_000_000n;
/** Two seconds: the coarsest directory timestamps in use (FAT, some network file systems). */
const RACY_NS = 2_000n * NS_PER_MS;

/** What the walk needs to know of an entry. */
export interface WalkEntry {
  readonly name: string;
  isDirectory(): boolean;
}

/** [name, 1 for a directory]: what is replayed for one directory. */
type Listing = [string, 0 | 1][];

interface CacheFile {
  readonly format: number;
  readonly key: string;
  /** Directory → [stamp, listing]. */
  readonly dirs: Record<string, [string, Listing]>;
}

const entry = ([name, dir]: [string, 0 | 1]): WalkEntry => ({ name, isDirectory: () => dir === 1 });

export interface WalkCacheOptions {
  /** Directories changed this recently are not stored (tests shorten it). */
  readonly racyNs?: bigint;
}

export class WalkCache {
  readonly #file: string;
  readonly #key: string;
  readonly #old: Record<string, [string, Listing]>;
  readonly #next: Record<string, [string, Listing]> = {};
  readonly #pending = new Map<string, { stamp: string; ctime: bigint }>();
  readonly #trustBefore: bigint;
  /** Whether a directory was read and stored (else the walk only replayed what was loaded). */
  #changed = false;
  /** False when Fence's own build cannot be identified: nothing is reused or written. */
  readonly #enabled: boolean;

  /** The cache for `key` in `dir` (created 0700 if missing); a stale or foreign file is ignored. */
  constructor(dir: string, key: string, options: WalkCacheOptions = {}) {
    const self = selfStamp();
    this.#key = JSON.stringify([FORMAT, key, self]);
    this.#file = join(dir, `${createHash('sha256').update(this.#key).digest('hex').slice(0, 24)}.json`);
    this.#trustBefore = BigInt(Date.now()) * NS_PER_MS - (options.racyNs ?? RACY_NS);
    this.#old = self ? load(this.#file, this.#key) : {};
    this.#enabled = self !== undefined;
    try {
      // Made now, whatever the walk stores: gather.ts makes it read-only in the sandbox only if it
      // exists, and a command that could create it could plant listings for a later run's key.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      /* unwritable here is unwritable in the sandbox too */
    }
  }

  /**
   * The entries of `dir` as last stored, when the directory is provably unchanged; otherwise
   * undefined (the walk reads it and calls `store`). Also notes the stamp `store` will use: it is
   * taken before the directory is read, so a change during the read makes the next stamp differ.
   */
  lookup(dir: string, root: boolean): WalkEntry[] | undefined {
    let stamp: { stamp: string; ctime: bigint };
    try {
      // A root is followed like readdir follows it; below it the walk only enters real directories.
      const st = (root ? statSync : lstatSync)(dir, { bigint: true });
      stamp = { stamp: `${st.dev}:${st.ino}:${st.ctimeNs}:${st.mtimeNs}`, ctime: st.ctimeNs };
    } catch {
      return undefined;
    }
    const old = this.#old[dir];
    if (!old || old[0] !== stamp.stamp) {
      this.#pending.set(dir, stamp);
      return undefined;
    }
    this.#next[dir] = old;
    return old[1].map(entry);
  }

  /** Stores what the walk kept of a directory it read, unless it changed too recently to trust. */
  store(dir: string, kept: readonly WalkEntry[]): void {
    const stamp = this.#pending.get(dir);
    if (!stamp || stamp.ctime >= this.#trustBefore) return;
    this.#next[dir] = [stamp.stamp, kept.map((e) => [e.name, e.isDirectory() ? 1 : 0])];
    this.#changed = true;
  }

  /**
   * Writes the directories seen by this walk (atomically) when it read and stored one; otherwise
   * the file already holds every directory of this walk (and maybe some gone since, which no walk
   * reaches). An unwritable cache only costs speed.
   */
  save(): void {
    if (!this.#enabled || !this.#changed) return;
    const data: CacheFile = { format: FORMAT, key: this.#key, dirs: this.#next };
    try {
      const tmp = `${this.#file}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
      renameSync(tmp, this.#file);
    } catch {
      /* the next start reads the tree again */
    }
  }
}

function load(file: string, key: string): Record<string, [string, Listing]> {
  try {
    const st = statSync(file);
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return {};
    const data = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    return data.format === FORMAT && data.key === key ? data.dirs : {};
  } catch {
    return {};
  }
}

/** Fence's own build: a rebuild or upgrade may filter differently. */
function selfStamp(): string | undefined {
  try {
    const self = fileURLToPath(import.meta.url);
    return `${self}:${statSync(self).mtimeMs}`;
  } catch {
    return undefined;
  }
}
