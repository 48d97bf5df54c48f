/**
 * Read isolation (defaultDenyRead) in the mounts: the host stays bound read-only at `/`, and every
 * entry that is neither a readable root (core's readableRoots), inside one, nor a directory on the
 * way to one is hidden like a denyRead path (an empty tmpfs, or /dev/null for a file). Only the
 * directories on the way are read, once each. Symlinks are left alone: a mount would follow them,
 * and where they lead is hidden or readable by itself. What a host program creates on the way
 * during the run is not hidden by the mounts; Landlock, which grants reads beneath the roots only,
 * refuses it (docs/security.md).
 */
import { readdirSync } from 'node:fs';
import { existingRealPath, readableRoots, type Policy } from '@fence/core';
import { isWithin, type PathEntry } from './bwrap-args.js';
import { outermost } from './glob-expand.js';

/** The directories from `/` down to the parent of `path`. */
function ways(path: string): string[] {
  const out = ['/'];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** What the mounts must hide for the policy's read isolation (none without it). */
export function unreadableEntries(policy: Policy): PathEntry[] {
  const roots = readableRoots(policy, 'linux', existingRealPath);
  if (!roots) return [];
  const tops = outermost(roots.map((r) => r.path));
  const onTheWay = new Set(tops.flatMap(ways));
  const hidden: PathEntry[] = [];
  for (const dir of onTheWay) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable for this user outside the sandbox too
    }
    for (const e of entries) {
      const path = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      if (onTheWay.has(path) || tops.some((t) => isWithin(path, t))) continue;
      if (e.isDirectory()) hidden.push({ path, kind: 'dir' });
      else if (e.isFile()) hidden.push({ path, kind: 'file' });
    }
  }
  return hidden;
}
