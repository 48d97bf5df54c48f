/**
 * Read-only placeholders for protected names that do not exist yet. bwrap needs a mount point, and
 * inside a writable directory that mount point is a real file on the host, so Fence creates it
 * itself (a 0444 file, empty or holding placeholderContent, created through its checked directory's descriptor so a planted
 * symlink cannot put it elsewhere: createExact), remembers its identity, and removes it at close
 * if it is still that same file, of the same size. A detached watchdog does the same when Fence is killed
 * (even SIGKILL).
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { startWatchdog, type Watchdog } from '@fence/core';
import { createExact } from './bind-fds.js';
import { placeholderContent } from './mandatory-paths.js';

interface Created {
  readonly path: string;
  readonly id: string;
}

const identity = (path: string): string | undefined => {
  try {
    const s = lstatSync(path);
    return s.isFile() ? `${s.dev}:${s.ino}:${s.size}` : undefined;
  } catch {
    return undefined;
  }
};

// Run once Fence is gone, however it ended: removes each file still identical (device:inode:size,
// regular file) to the one Fence created. Arguments: path id path id ...
const CLEANUP = `while [ $# -ge 2 ]; do
  if [ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %d:%i:%s -- "$1" 2>/dev/null)" = "$2" ]; then rm -f -- "$1"; fi
  shift 2
done`;

export class Placeholders {
  readonly #created: Created[] = [];
  #watchdog: Watchdog | undefined;

  /**
   * Creates each missing file; returns those created (others already existed or cannot be made).
   * Throws PATH_CHANGED, keeping what it created for remove(), when a directory on the way is a symlink.
   */
  create(paths: readonly string[]): string[] {
    for (const path of paths) {
      const id = createExact(path, placeholderContent(path));
      if (id) this.#created.push({ path, id });
    }
    if (this.#created.length > 0) this.#startWatchdog();
    return this.#created.map((c) => c.path);
  }

  #startWatchdog(): void {
    this.#watchdog = startWatchdog('fence-placeholders', CLEANUP, this.#created.flatMap((c) => [c.path, c.id]));
  }

  /** Removes what this session created and is still unchanged; stops the watchdog. */
  remove(): void {
    for (const c of this.#created.splice(0)) {
      if (identity(c.path) === c.id) {
        try {
          unlinkSync(c.path);
        } catch {
          /* gone or the directory became read-only */
        }
      }
    }
    this.#watchdog?.cancel();
    this.#watchdog = undefined;
  }
}
