/**
 * Protected names created during the run in places that had none at start (`mkdir sub && echo …
 * > sub/.bashrc`, `newdir/.vscode/settings.json`, a `git init` or a `.git` file where there was no
 * repository). Mounts can only guard what exists when the sandbox is built, so Fence looks again
 * when the session closes: the same search as at start (the working directory to any depth, the
 * top of $HOME and of every writable directory), and every protected name that is new and was
 * writable in the sandbox is renamed to `<name>.fence-quarantined`, through its checked
 * directory's descriptor, and reported. In a new git directory that is its config, hooks and info:
 * objects and refs stay, so the repository still works (without its config).
 *
 * With the creation guard (create-guard.ts) every protected name is refused when it would be
 * created, except git's config in a git directory the guard made during the run (git init, git
 * clone keep working): the sweep then looks for those names only.
 */
import { chmodSync, closeSync, renameSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@fence/core';
import { openExact } from './bind-fds.js';
import { lstatExists } from './gather.js';
import { walkTrees } from './glob-expand.js';
import { emptyFinds, gitFinds, protectedNamesAt, protectedPathVisitor } from './mandatory-paths.js';

/** Where to look again at close, and what was there at start. */
export interface SweepPlan {
  /** The working directory when it is searched to any depth (it is or holds a writable path). */
  readonly walk: string | undefined;
  /** Directories whose top holds protected names: $HOME, the working directory, writable directories. */
  readonly tops: readonly string[];
  /** Directories the start-up walk did not enter (denyRead): nothing could be created there. */
  readonly hidden: ReadonlySet<string>;
  readonly allowGitConfig: boolean;
  /** Protected paths that existed at start (placeholders Fence creates are added to it). */
  readonly seen: ReadonlySet<string>;
  /** Whether the sandbox could write at a path (was the name creatable there). */
  readonly writable: (path: string) => boolean;
  /** Only these names are looked for (the creation guard refused every other one at creation). */
  readonly names?: ReadonlySet<string>;
}

/** The protected paths present now, and the directories that could not be read. */
export function findProtected(plan: Omit<SweepPlan, 'seen' | 'writable'>): { found: Set<string>; unreadable: string[] } {
  const finds = emptyFinds();
  const visit = protectedPathVisitor(plan.allowGitConfig, finds);
  const unreadable: string[] = [];
  walkTrees(plan.walk ? [plan.walk] : [], (path, entry) => (plan.hidden.has(path) ? 'skip' : visit(path, entry)), { unreadable: (dir) => unreadable.push(dir) });
  for (const p of gitFinds(finds, plan.allowGitConfig)) finds.found.add(p);
  for (const top of plan.tops) for (const p of protectedNamesAt(top, plan.allowGitConfig)) if (lstatExists(p)) finds.found.add(p);
  return { found: finds.found, unreadable };
}

/**
 * Renames `path` to a free `<name>.fence-quarantined[.n]` beside it; returns the new path. A
 * directory the command made unwritable (`chmod 555 repo/.git`: its own, so the command could) is
 * made writable for the rename and given its mode back, or the config would stay.
 */
function quarantine(path: string): string {
  const dir = openExact(dirname(path), 'dir');
  try {
    const at = (name: string) => `/proc/self/fd/${dir}/${name}`;
    let kept = `${basename(path)}.fence-quarantined`;
    for (let n = 1; lstatExists(at(kept)); n++) kept = `${basename(path)}.fence-quarantined.${n}`;
    try {
      renameSync(at(basename(path)), at(kept));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      const self = `/proc/self/fd/${dir}`;
      const mode = statSync(self).mode & 0o7777;
      chmodSync(self, mode | 0o300);
      try {
        renameSync(at(basename(path)), at(kept));
      } finally {
        chmodSync(self, mode);
      }
    }
    return `${dirname(path)}/${kept}`;
  } finally {
    closeSync(dir);
  }
}

/** Quarantines every protected name created during the run, saying so; warns for what it could not check. */
/**
 * Makes the directories the command made unreadable (`chmod 000 repo`, its own) readable for the
 * search; returns their modes, to be given back. The command has ended: nothing moves them meanwhile.
 */
function openUp(dirs: readonly string[], modes: Map<string, number>): boolean {
  let opened = false;
  for (const dir of dirs) {
    if (modes.has(dir)) continue;
    try {
      const fd = openExact(dir, 'dir');
      try {
        const self = `/proc/self/fd/${fd}`;
        const st = statSync(self);
        if (st.uid !== process.getuid?.()) continue;
        modes.set(dir, st.mode & 0o7777);
        chmodSync(self, st.mode | 0o700);
        opened = true;
      } finally {
        closeSync(fd);
      }
    } catch {
      /* left unreadable: warned about below */
    }
  }
  return opened;
}

function giveBack(modes: Map<string, number>): void {
  // Deepest first: a directory made unreadable again would hide the ones below it.
  for (const [dir, mode] of [...modes].sort((a, b) => b[0].length - a[0].length)) {
    try {
      const fd = openExact(dir, 'dir');
      try {
        chmodSync(`/proc/self/fd/${fd}`, mode);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* moved or gone: nothing to give back */
    }
  }
}

export function sweep(plan: SweepPlan, logger: Logger): void {
  const modes = new Map<string, number>();
  try {
    sweepOnce(plan, logger, modes);
  } finally {
    giveBack(modes);
  }
}

function sweepOnce(plan: SweepPlan, logger: Logger, modes: Map<string, number>): void {
  let { found, unreadable } = findProtected(plan);
  // An unreadable directory can hold a new repository: searched again once opened up, as deep as
  // the command nested them.
  while (openUp(unreadable.filter(plan.writable), modes)) ({ found, unreadable } = findProtected(plan));
  // Deepest first: a quarantined directory must not move a path still to be handled.
  const created = [...found].filter((p) => !plan.seen.has(p) && plan.writable(p) && (plan.names?.has(basename(p)) ?? true)).sort((a, b) => b.length - a.length);
  for (const path of created) {
    try {
      logger.notice(`the command created ${path}, which programs outside the sandbox act on: moved to ${quarantine(path)}`);
    } catch (e) {
      logger.warn(`the command created ${path}, which programs outside the sandbox act on, and it could not be moved away: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const dir of unreadable.filter(plan.writable)) logger.warn(`cannot read ${dir} to check it for protected files the command may have created there`);
}
