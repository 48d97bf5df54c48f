/**
 * The per-run cgroups that hold the sandbox's limits (the effects of cgroup-plan.ts): find the
 * hierarchies this user may write, make a cgroup per run, move the sandbox's init into it before
 * the command starts, read what it counted, and remove it when the run is over.
 */
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the empty per-run cgroups of Fence processes that are gone (killed before their own
 * clean-up ran): rmdir fails on a cgroup that still holds a process, so nothing live is touched.
 */
function sweep(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => /^fence-\d+-\d+$/.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const owner = Number(name.split('-')[1]);
    if (owner === process.pid || alive(owner)) continue;
    try {
      rmdirSync(join(base, name));
    } catch {
      /* still in use, or not ours to remove */
    }
  }
}

let runs = 0;

/** The cgroups of one run: one per hierarchy the plan uses. */
export class RunCgroups {
  private constructor(readonly dirs: ReadonlyMap<PlannedCgroup, string>) {}

  /** Makes the cgroups and writes their limits; on failure removes what it made and throws. */
  static create(planned: readonly PlannedCgroup[]): RunCgroups {
    const name = `fence-${process.pid}-${++runs}`;
    const dirs = new Map<PlannedCgroup, string>();
    const made = new RunCgroups(dirs);
    try {
      for (const p of planned) {
        sweep(p.base);
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
