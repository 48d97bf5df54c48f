/**
 * A plan cache entry: everything the native fast path (native/fence-native/src/fastpath*.c) needs
 * to start the same sandbox without Node, and everything it must check first. Pure.
 *
 * Format: a sequence of NUL-terminated words; each record is a tag and a fixed number of words,
 * except `data` whose bytes follow their length raw. Numbers are decimal. Paths, values and
 * messages may hold any byte but NUL, which none of them can hold.
 *
 *   FENCE-PLAN <format>                    first
 *   user <uid> <gid>                       the user it was built for
 *   cwd <dir>                              the working directory it was built in
 *   flags <n> <word>...                    fence's own arguments before `--`, as given
 *   expires <unix seconds>                 no use after (the detection cache's age)
 *   env <name> <value>                     the caller's environment, every variable but VOLATILE
 *   drop <name>                            a VOLATILE variable the policy removes from the command's
 *   set <name> <value>                     the command's environment (every variable but VOLATILE)
 *   refer <name>                           argv[0] names that need the command policy (Node) …
 *   refer-prefix <prefix>                  … or start with this
 *   say <line>                             a line for stderr (the run's warnings), in order
 *   chdir <dir>                            where the wrappers start
 *   argv <n> <word>...                     the wrappers; the command follows
 *   fd data <len> <bytes>                  descriptors 3, 4, …: bytes to read,
 *   fd bind <path> <dir|file|socket> <dev> <ino>  a path opened O_PATH|O_NOFOLLOW and proved
 *                                             (a socket: a shared service's, of this user),
 *   fd report                                 bwrap's --info-fd (the launcher reads it),
 *   fd none                                   nothing
 *   lease <path> <dev> <ino>               a shared service's socket (proved likewise) to connect
 *                                          to and hold for the run; no "ok" from it is a miss
 *   entry <path> <dev> <ino> <mode>        inputs (inputs.ts)
 *   full <path> <dev> <ino> <mode> <uid> <gid> <size> <mtime ns> <ctime ns>
 *   absent <path> <errno>
 *   content <path> <len> <bytes>
 *   end
 */
import type { OpenedPath } from '@fence/core';
import type { Input } from './inputs.js';

export const FORMAT = '2';

/**
 * Variables a shell changes between two commands in the same place, which no layer reads: left
 * out of the key, passed to the command as they are now (unless the policy removes them).
 * The fast path's own switch is also left out.
 */
export const VOLATILE: readonly string[] = ['_', 'OLDPWD', 'PWD', 'SHLVL', 'FENCE_FAST_PATH'];

export type EntryFd =
  | { readonly kind: 'data'; readonly bytes: Uint8Array }
  | { readonly kind: 'bind'; readonly path: string; readonly type: 'dir' | 'file' | 'socket'; readonly dev: number; readonly ino: number }
  | { readonly kind: 'report' }
  | { readonly kind: 'none' };

export interface Entry {
  readonly uid: number;
  readonly gid: number;
  readonly cwd: string;
  readonly flags: readonly string[];
  readonly expires: number;
  readonly env: ReadonlyMap<string, string>;
  readonly dropped: readonly string[];
  readonly commandEnv: ReadonlyMap<string, string>;
  readonly refer: readonly string[];
  readonly referPrefixes: readonly string[];
  readonly say: readonly string[];
  readonly chdir: string;
  readonly argv: readonly string[];
  readonly fds: readonly EntryFd[];
  readonly leases: readonly OpenedPath[];
  readonly inputs: readonly Input[];
}

const NUL = Buffer.from([0]);

/** The entry's bytes. Throws when a word holds a NUL (nothing Fence builds does). */
export function encodeEntry(e: Entry): Buffer {
  const out: Buffer[] = [];
  const word = (w: string | number | bigint) => {
    const s = String(w);
    if (s.includes('\0')) throw new Error(`plan cache: a NUL in ${JSON.stringify(s.slice(0, 40))}`);
    out.push(Buffer.from(s), NUL);
  };
  const record = (...words: (string | number | bigint)[]) => words.forEach(word);
  const bytes = (b: Uint8Array) => {
    word(b.length);
    out.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength), NUL);
  };
  record('FENCE-PLAN', FORMAT);
  record('user', e.uid, e.gid);
  record('cwd', e.cwd);
  record('flags', e.flags.length, ...e.flags);
  record('expires', e.expires);
  for (const [k, v] of e.env) record('env', k, v);
  for (const k of e.dropped) record('drop', k);
  for (const [k, v] of e.commandEnv) record('set', k, v);
  for (const r of e.refer) record('refer', r);
  for (const r of e.referPrefixes) record('refer-prefix', r);
  for (const s of e.say) record('say', s);
  record('chdir', e.chdir);
  record('argv', e.argv.length, ...e.argv);
  for (const fd of e.fds) {
    if (fd.kind === 'data') {
      record('fd', 'data');
      bytes(fd.bytes);
    } else if (fd.kind === 'bind') record('fd', 'bind', fd.path, fd.type, fd.dev, fd.ino);
    else record('fd', fd.kind);
  }
  for (const l of e.leases) record('lease', l.path, l.dev, l.ino);
  for (const i of e.inputs) {
    if (i.type === 'entry') record('entry', i.path, i.dev, i.ino, i.mode);
    else if (i.type === 'full') record('full', i.path, i.st.dev, i.st.ino, i.st.mode, i.st.uid, i.st.gid, i.st.size, i.st.mtimeNs, i.st.ctimeNs);
    else if (i.type === 'absent') record('absent', i.path, i.errno);
    else {
      record('content', i.path);
      bytes(i.bytes);
    }
  }
  record('end');
  return Buffer.concat(out);
}

/**
 * The entry's file name for a working directory and fence's arguments: FNV-1a (64 bits) of both,
 * as the fast path computes it. A collision only costs a miss: the entry holds both, compared whole.
 */
export function entryName(cwd: string, flags: readonly string[]): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from([cwd, ...flags].map((w) => `${w}\0`).join(''))) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `${h.toString(16).padStart(16, '0')}.plan`;
}
