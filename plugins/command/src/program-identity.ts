/**
 * Which denied program a file is, whatever it is called: `cp /usr/bin/git /tmp/g; /tmp/g push`
 * runs git. For `runtimeExecPolicy` "argv", each executed file is compared with the executables of
 * the programs the rules name (found once per session): the same file, or one of the same size
 * and content. Reads at most the files whose size matches, each once per version.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { DeniedExecutable } from './executables.js';

interface Known {
  readonly program: string;
  readonly id: string;
  readonly size: number;
  readonly file: string;
}

const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

export class ProgramIdentity {
  readonly #known: Known[] = [];
  readonly #digests = new Map<string, string>();

  constructor(found: readonly DeniedExecutable[]) {
    for (const f of found) {
      const s = statSync(f.file, { throwIfNoEntry: false });
      if (s?.isFile()) for (const program of f.programs) this.#known.push({ program, id: `${s.dev}:${s.ino}`, size: s.size, file: f.file });
    }
  }

  #digest(file: string, key: string): string {
    let d = this.#digests.get(key);
    if (d === undefined) this.#digests.set(key, (d = digest(file)));
    return d;
  }

  /** The denied programs `file` is (empty when none, or when it cannot be read). */
  programsOf(file: string): string[] {
    try {
      const s = statSync(file);
      if (!s.isFile()) return [];
      const id = `${s.dev}:${s.ino}`;
      const same = this.#known.filter((k) => k.id === id || k.size === s.size);
      if (same.length === 0) return [];
      const key = `${id}:${s.size}:${s.mtimeMs}`;
      return same.filter((k) => k.id === id || this.#digest(k.file, `${k.id}:${k.size}`) === this.#digest(file, key)).map((k) => k.program);
    } catch {
      return [];
    }
  }
}
