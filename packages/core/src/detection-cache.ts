/**
 * Detection results cached across processes, so a cold `fence` start does not re-run the plugins'
 * probes. An entry is used only when it was written by this user, since the machine last booted,
 * with the same PATH and FENCE_* variables (a plugin's overrides), within the last hour, and when
 * Fence itself, every PATH directory (so installing or removing a tool invalidates it) and
 * every file the results depend on (`Availability.dependsOn`) are unchanged. Volatile results
 * (`Availability.volatile`) are never stored. The file must be owned by this user and not writable
 * by others: another user cannot weaken this user's sandbox.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, uptime, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Availability } from './availability.js';

const MAX_AGE_MS = 60 * 60 * 1000;
const FORMAT = 1;

interface CacheFile {
  readonly format: number;
  readonly key: string;
  readonly written: number;
  readonly results: Record<string, Availability>;
  /** Path → mtime in ms (null: did not exist). */
  readonly deps: Record<string, number | null>;
}

function mtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * When the machine booted, to the 10 s: a reboot (a new kernel, new modules) starts a new cache.
 * A wall-clock step only costs one start its probes.
 */
function bootTime(): number {
  return Math.round((Date.now() / 1000 - uptime()) / 10) * 10;
}

/** FENCE_* variables, sorted: the overrides plugins read at detection (where their tools are). */
const fenceVariables = (env: NodeJS.ProcessEnv): [string, string | undefined][] =>
  Object.entries(env)
    .filter(([k]) => k.startsWith('FENCE_'))
    .sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * Every place Fence's per-user caches (detection, walk, plan) may be: this environment's
 * ($XDG_CACHE_HOME, else $HOME/.cache) first, then the defaults of $HOME and of the password
 * database, since a later run may lack this one's XDG_CACHE_HOME or HOME. Absolute paths only.
 */
export function fenceCacheDirs(env: NodeJS.ProcessEnv): string[] {
  let passwdHome: string | undefined;
  try {
    passwdHome = userInfo().homedir;
  } catch {
    passwdHome = undefined; // no password database entry: nothing defaults to it
  }
  const bases = [env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), ...[env.HOME, passwdHome].map((h) => (h ? join(h, '.cache') : ''))];
  return [...new Set(bases.filter((b) => b.startsWith('/')).map((b) => join(b, 'fence')))];
}

/** The user's detection cache file, when the cache directory is an absolute path. */
function cacheFile(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return base.startsWith('/') ? join(base, 'fence', `detect-${process.getuid?.() ?? 0}.json`) : undefined;
}

/** When the stored detection results stop being used (ms since the epoch); undefined without any. */
export function detectionExpiry(env: NodeJS.ProcessEnv): number | undefined {
  const file = cacheFile(env);
  try {
    const written = file === undefined ? undefined : (JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>).written;
    return typeof written === 'number' ? written + MAX_AGE_MS : undefined;
  } catch {
    return undefined;
  }
}

export class DetectionCache {
  readonly #file: string | undefined;
  readonly #key: string;
  readonly #pathDirs: string[];

  constructor(env: NodeJS.ProcessEnv, extraKey: string) {
    this.#file = cacheFile(env);
    this.#pathDirs = (env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
    this.#key = JSON.stringify([bootTime(), process.getuid?.(), process.getgid?.(), env.PATH, fenceVariables(env), process.execPath, extraKey]);
  }

  /** The cached results for these plugin names (those present), or undefined when the file is stale. */
  load(names: readonly string[]): Map<string, Availability> | undefined {
    if (!this.#file) return undefined;
    try {
      const st = statSync(this.#file);
      if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return undefined;
      const data = JSON.parse(readFileSync(this.#file, 'utf8')) as CacheFile;
      if (data.format !== FORMAT || data.key !== this.#key || Date.now() - data.written > MAX_AGE_MS) return undefined;
      if (Object.entries(data.deps).some(([path, m]) => mtime(path) !== m)) return undefined;
      return new Map(names.filter((n) => n in data.results).map((n) => [n, data.results[n]!]));
    } catch {
      return undefined;
    }
  }

  store(results: ReadonlyMap<string, Availability>): void {
    if (!this.#file) return;
    const deps: Record<string, number | null> = {};
    // Fence itself: an upgrade or rebuild may detect differently.
    const self = fileURLToPath(import.meta.url);
    deps[self] = mtime(self);
    // A program installed or removed (bwrap, socat) changes its directory's mtime.
    for (const dir of this.#pathDirs) deps[dir] = mtime(dir);
    for (const a of results.values()) for (const p of a.dependsOn ?? []) deps[p] = mtime(p);
    const stable = [...results].filter(([, a]) => !a.volatile);
    const data: CacheFile = { format: FORMAT, key: this.#key, written: Date.now(), results: Object.fromEntries(stable), deps };
    try {
      mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${this.#file}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
      renameSync(tmp, this.#file);
    } catch {
      /* an unwritable cache only costs the next start its probes */
    }
  }
}
