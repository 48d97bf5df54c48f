/**
 * Every path a session's preparation looks at, recorded by wrapping node:fs while it runs: the
 * plan is a function of what those calls returned (settings files and their extends chains,
 * protected names, the walked trees, the detection cache, Fence's own files), so a later start
 * may reuse it exactly when each of them is unchanged (inputs.ts states what "unchanged" is).
 * Recording wraps the functions, it does not change what they return or throw.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

/** How a call used its path: `follow` resolved a last-component symlink (stat, open, read); `nofollow` did not (lstat, readlink). */
export type Use = 'follow' | 'nofollow' | 'list' | 'read';

const SYNC: Record<string, Use> = {
  lstatSync: 'nofollow',
  readlinkSync: 'nofollow',
  statSync: 'follow',
  existsSync: 'follow',
  accessSync: 'follow',
  realpathSync: 'follow',
  openSync: 'follow',
  opendirSync: 'list',
  readdirSync: 'list',
  readFileSync: 'read',
};
const ASYNC: Record<string, Use> = { stat: 'follow', lstat: 'nofollow', access: 'follow', realpath: 'follow', readFile: 'read', readdir: 'list', open: 'follow' };

const pathOf = (arg: unknown): string | undefined =>
  typeof arg === 'string' ? arg : arg instanceof URL && arg.protocol === 'file:' ? arg.pathname : Buffer.isBuffer(arg) ? arg.toString() : undefined;

/** Path → the strongest use seen (a read or a listing needs the content, not only the entry). */
export type Touched = Map<string, Use>;

const RANK: Record<Use, number> = { nofollow: 0, follow: 1, list: 2, read: 2 };

/** Runs `work` with node:fs recorded; returns its result and the paths it touched. */
export async function recordPaths<T>(work: () => Promise<T>): Promise<{ result: T; touched: Touched }> {
  const touched: Touched = new Map();
  const note = (arg: unknown, use: Use) => {
    const p = pathOf(arg);
    if (p === undefined || p === '') return;
    const abs = resolve(p);
    const old = touched.get(abs);
    if (old === undefined || RANK[use] > RANK[old]) touched.set(abs, use);
  };
  const saved: [Record<string, unknown>, string, unknown][] = [];
  const wrap = (target: Record<string, unknown>, name: string, use: Use) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    saved.push([target, name, original]);
    const fn = original as (...a: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      note(args[0], use);
      return fn.apply(this, args);
    };
    // realpathSync.native and the like stay reachable.
    Object.assign(wrapped, fn);
    target[name] = wrapped;
  };
  const sync = fs as unknown as Record<string, unknown>;
  for (const [name, use] of Object.entries(SYNC)) wrap(sync, name, use);
  wrap(fs.realpathSync as unknown as Record<string, unknown>, 'native', 'follow');
  for (const [name, use] of Object.entries(ASYNC)) wrap(fs.promises as unknown as Record<string, unknown>, name, use);
  syncBuiltinESMExports();
  try {
    const result = await work();
    return { result, touched };
  } finally {
    for (const [target, name, original] of saved.reverse()) target[name] = original;
    syncBuiltinESMExports();
  }
}
