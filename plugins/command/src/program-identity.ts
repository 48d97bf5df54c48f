/**
 * Which denied program a file is, whatever it is called: `cp /usr/bin/git /tmp/g; /tmp/g push`
 * runs git. For `runtimeExecPolicy` "argv", each executed file is compared with the executables of
 * the programs the rules name (found once per session): the same file, or one of the same size
 * and content. Reads at most the files whose size matches, each once per version.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { DeniedExecutable } from './executables.js';

interface Known {
  readonly program: string;
  readonly id: string;
  readonly size: number;
  readonly file: string;
}

/** Opens without blocking (a FIFO swapped in after the stat must not stop Fence) and reads only a regular file. */
function readRegular(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

const digest = (file: string): string => createHash('sha256').update(readRegular(file)).digest('hex');

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

  /**
   * The interpreter and its optional argument of a `#!` script, as the kernel reads them (the
   * first line, at most 256 bytes), or undefined.
   */
  interpreterOf(file: string): string[] | undefined {
    const buf = Buffer.alloc(256);
    let n = 0;
    try {
      // Non-blocking: a FIFO put in the file's place must not stop Fence.
      const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        if (fstatSync(fd).isFile()) n = readSync(fd, buf, 0, buf.length, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
    const head = buf.subarray(0, n).toString('latin1');
    if (!head.startsWith('#!')) return undefined;
    const line = head.slice(2).split('\n')[0]!.replace(/^[ \t]+|[ \t]+$/g, '');
    const at = line.search(/[ \t]/);
    if (line === '') return undefined;
    return at < 0 ? [line] : [line.slice(0, at), line.slice(at).replace(/^[ \t]+/, '')];
  }

  /** Whether any denied program was found on this machine (else no file can be one). */
  get denies(): boolean {
    return this.#known.length > 0;
  }

  /** The denied programs `file` is: empty when none or when nothing is there, undefined when it is there but cannot be read. */
  identify(file: string): string[] | undefined {
    let s;
    try {
      s = statSync(file);
    } catch {
      // Not there, or not to be reached: the caller's exec fails the same (an unreachable file is `unresolved`).
      return [];
    }
    try {
      if (!s.isFile()) return [];
      const id = `${s.dev}:${s.ino}`;
      const same = this.#known.filter((k) => k.id === id || k.size === s.size);
      if (same.length === 0) return [];
      const key = `${id}:${s.size}:${s.mtimeMs}`;
      return same.filter((k) => k.id === id || this.#digest(k.file, `${k.id}:${k.size}`) === this.#digest(file, key)).map((k) => k.program);
    } catch {
      return undefined;
    }
  }
}
