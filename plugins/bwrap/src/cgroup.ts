/**
 * The per-run cgroups that hold the sandbox's limits (the effects of cgroup-plan.ts): find the
 * hierarchies this user may write, make a cgroup per run, move the sandbox's init into it before
 * the command starts, read what it counted, and remove it when the run is over.
 */
import { startWatchdog, type Watchdog } from '@fence/core';
import { accessSync, constants, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupBases, type CgroupBase, type CgroupWatch, type PlannedCgroup } from './cgroup-plan.js';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** The hierarchies where this process may make a cgroup and move its own processes into it. */
export function usableCgroupBases(): CgroupBase[] {
  const bases = cgroupBases(read('/proc/self/mountinfo') ?? '', read('/proc/self/cgroup') ?? '');
  return bases
    .filter((b) => writable(b.dir) && writable(join(b.dir, 'cgroup.procs')))
    .map((b) => (b.version === 1 ? b : { ...b, controllers: (read(join(b.dir, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/).filter(Boolean) }));
}

/**
 * Removes the cgroups once this process is gone, however it died (SIGKILL included): the watchdog
 * retries until the sandbox's processes, killed
 * by --die-with-parent, have left them (rmdir refuses a cgroup that holds a process).
 */
function watchdog(dirs: readonly string[]): Watchdog {
  const script = 'for i in $(seq 100); do rmdir -- "$@" 2>/dev/null; left=0; for d; do [ -d "$d" ] && left=1; done; [ $left = 0 ] && exit 0; sleep 0.1; done';
  return startWatchdog('fence-cgroup-cleanup', script, dirs);
}

let runs = 0;

/** The cgroups of one run: one per hierarchy the plan uses. */
export class RunCgroups {
  #watchdog: Watchdog | undefined;

  private constructor(readonly dirs: ReadonlyMap<PlannedCgroup, string>) {}

  /** Makes the cgroups and writes their limits; on failure removes what it made and throws. */
  static create(planned: readonly PlannedCgroup[]): RunCgroups {
    const name = `fence-${process.pid}-${++runs}`;
    const dirs = new Map<PlannedCgroup, string>();
    const made = new RunCgroups(dirs);
    try {
      made.#watchdog = watchdog(planned.map((p) => join(p.base, name)));
      for (const p of planned) {
        const dir = join(p.base, name);
        mkdirSync(dir);
        dirs.set(p, dir);
        for (const s of p.settings) {
          try {
            writeFileSync(join(dir, s.file), s.value);
          } catch (e) {
            if (!s.optional || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
        }
      }
    } catch (e) {
      made.removeNow();
      made.#watchdog?.release();
      throw e;
    }
    return made;
  }

  /** Moves a process (the sandbox's init, before it starts the command) into every cgroup. */
  place(pid: number): void {
    for (const dir of this.dirs.values()) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  }

  /** Each watched file's current text. */
  *readings(): Generator<[CgroupWatch, string]> {
    for (const [p, dir] of this.dirs) {
      for (const w of p.watches) {
        const text = read(join(dir, w.file));
        if (text !== undefined) yield [w, text];
      }
    }
  }

  /** SIGKILL to whatever is still in the cgroups (the init's death already ended the rest). */
  killAll(): void {
    for (const dir of this.dirs.values()) {
      for (const pid of (read(join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** Removes the cgroups; killed processes leave them within milliseconds, so it retries briefly. */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.removeNow(); attempt++) {
      this.killAll();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#watchdog?.release();
  }

  /** Removes the cgroups that are empty; true when none is left. */
  private removeNow(): boolean {
    let left = false;
    for (const dir of this.dirs.values()) {
      try {
        rmdirSync(dir);
      } catch (e) {
        left ||= (e as NodeJS.ErrnoException).code !== 'ENOENT';
      }
    }
    return !left;
  }
}
