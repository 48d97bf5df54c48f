/**
 * Read isolation (defaultDenyRead) in the mounts. The host stays bound read-only at `/`; what is
 * not a readable root (core's readableRoots), inside one, or a directory on the way to one is
 * hidden: the other entries of `/` one by one (an empty tmpfs, or /dev/null for a file), and every
 * directory on the way below `/` whole (a tmpfs), with the roots inside it bound back by descriptor
 * (bwrap-args.ts `readable`). So an entry created or removed next to a root while Fence starts (a
 * host program in `$HOME`, another user in `/var/tmp`) neither shows nor stops the run; only `/`
 * itself is listed, and a symlink there is left alone (a mount would follow it; where it leads is
 * hidden or readable by itself).
 */
import { readdirSync } from 'node:fs';
import { existingRealPath, readableRoots, type Policy } from '@fence/core';
import { LINUX_PATHS } from '@fence/linux-helper';
import type { PathEntry } from './bwrap-args.js';
import { outermost } from './glob-expand.js';

export interface ReadIsolation {
  /** Hidden like denyRead paths. */
  readonly hidden: readonly PathEntry[];
  /** The readable roots, to be bound back where a hidden directory covers them. */
  readonly readable: readonly string[];
}

/** The directories from just below `/` down to the parent of `path`. */
function ways(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** What the mounts hide and show back for the policy's read isolation (nothing without it). */
export function readIsolation(policy: Policy): ReadIsolation {
  const roots = readableRoots(policy, LINUX_PATHS, existingRealPath);
  if (!roots) return { hidden: [], readable: [] };
  // The sandbox's own /dev, /proc and /tmp are mounted by bwrap itself; what is below them is not the host's.
  const tops = outermost(roots.map((r) => r.path)).filter((t) => !LINUX_PATHS.sandbox.includes(t));
  const onTheWay = new Set(tops.flatMap(ways));
  const keep = new Set([...LINUX_PATHS.sandbox, ...tops, ...onTheWay]);
  const hidden: PathEntry[] = [...onTheWay].map((path) => ({ path, kind: 'dir' }));
  for (const e of readdirSync('/', { withFileTypes: true })) {
    const path = `/${e.name}`;
    if (keep.has(path)) continue;
    if (e.isDirectory()) hidden.push({ path, kind: 'dir' });
    else if (e.isFile()) hidden.push({ path, kind: 'file' });
  }
  return { hidden, readable: tops };
}
