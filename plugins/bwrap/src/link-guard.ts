/**
 * Protected names that are symlinks (`~/.bashrc -> dotfiles/bashrc`, as stow or home-manager
 * make them). Their target is bound read-only, but a mount on the name itself is impossible: every
 * mount follows the link. In a writable directory the command can therefore remove the link and
 * put a file of its own there. Fence records each such link when the session starts and, when it
 * closes, puts the link back if the name is no longer that very link, keeping what the command
 * left as `<name>.fence-replaced` and saying so. Everything happens through the descriptor of the
 * link's directory, proved by openExact, so a directory swapped for a symlink meanwhile is refused
 * rather than followed.
 */
import { closeSync, lstatSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@fence/core';
import { openExact } from './bind-fds.js';
import { lstatExists } from './gather.js';

interface Link {
  readonly path: string;
  /** `dev:ino` of the link itself. */
  readonly id: string;
  readonly target: string;
}

const linkId = (path: string): string | undefined => {
  try {
    const s = lstatSync(path);
    return s.isSymbolicLink() ? `${s.dev}:${s.ino}` : undefined;
  } catch {
    return undefined;
  }
};

export class LinkGuard {
  readonly #links: Link[] = [];

  /** Records each path that is a symlink now (others are skipped). */
  record(paths: readonly string[]): void {
    for (const path of paths) {
      try {
        const id = linkId(path);
        if (id) this.#links.push({ path, id, target: readlinkSync(path) });
      } catch {
        /* gone since the walk saw it: nothing to guard */
      }
    }
  }

  /** Puts back every link the run replaced or removed, saying so for each. */
  restore(logger: Logger): void {
    for (const link of this.#links.splice(0)) {
      try {
        const kept = this.#restoreOne(link);
        if (kept !== false) logger.notice(`the command replaced the protected symlink ${link.path}: restored it${kept ? `; what it left there is kept as ${kept}` : ''}`);
      } catch (e) {
        logger.warn(`the protected symlink ${link.path} was changed by the command and could not be restored: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** False when the link is intact; else restores it and returns where the replacement went (undefined: there was none). */
  #restoreOne(link: Link): string | undefined | false {
    const dir = openExact(dirname(link.path), 'dir');
    try {
      const at = (name: string) => `/proc/self/fd/${dir}/${name}`;
      const name = basename(link.path);
      if (linkId(at(name)) === link.id && readlinkSync(at(name)) === link.target) return false;
      let kept: string | undefined;
      if (lstatExists(at(name))) {
        kept = `${name}.fence-replaced`;
        for (let n = 1; lstatExists(at(kept)); n++) kept = `${name}.fence-replaced.${n}`;
        renameSync(at(name), at(kept));
      }
      symlinkSync(link.target, at(name));
      return kept && `${dirname(link.path)}/${kept}`;
    } finally {
      closeSync(dir);
    }
  }
}
