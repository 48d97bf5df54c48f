/**
 * devices.allow as bwrap will show it: each device node by itself, a directory (/dev/dri) as the
 * device nodes and links it holds. The sandbox's /dev stays bwrap's own tmpfs, so nothing inside,
 * root included, can create, remove or rename a name in the host's /dev; only the nodes are the
 * host's. (A read-only bind would not do: bwrap remounts read-only with nodev, and the devices
 * would no longer open.)
 */
import { errors, isWithin } from '@fence/core';
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PassedDevices {
  /** Device nodes (real paths under /dev), bound from the host with device access. */
  readonly nodes: readonly string[];
  /** Symbolic links inside a passed directory (/dev/dri/by-path/…), made again inside. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/**
 * devices.allow checked when the session starts, before any layer prepares: each entry must exist
 * and its real path (symlinks resolved) must still be under /dev, so a link such as /dev/fd cannot
 * name something outside; the real path is what the sandbox shows. It must be a device node or a
 * directory of them that only root can write (/dev/dri, /dev/net): never a place others can write,
 * such as /dev/shm, where a name could be swapped for a link between this check and the mount.
 */
export function resolveDevices(list: readonly string[]): string[] {
  return list.map((written, i) => {
    const field = `devices.allow[${i}]`;
    let real: string;
    try {
      real = realpathSync.native(written);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw errors.pathInvalid(field, written, `does not exist on this machine (${code}); remove it, or load the driver that creates it`);
    }
    if (!isWithin(real, '/dev') || real === '/dev') throw errors.pathInvalid(field, written, `leads to ${real}, outside /dev; name a device under /dev`);
    const stat = statSync(real);
    const device = stat.isCharacterDevice() || stat.isBlockDevice();
    const rootsDirectory = stat.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0;
    if (!device && !rootsDirectory) {
      throw errors.pathInvalid(field, written, `${real === written ? 'is' : `leads to ${real}, which is`} neither a device nor a directory of devices only root can write; name a device node (e.g. "/dev/fuse") or a directory such as "/dev/dri"`);
    }
    return real;
  });
}

/** The nodes and links of `allow` (paths resolveDevices checked: real, under /dev, existing). */
export function expandDevices(allow: readonly string[]): PassedDevices {
  const nodes: string[] = [];
  const links: { path: string; target: string }[] = [];
  const visit = (path: string): void => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isCharacterDevice() || stat.isBlockDevice()) nodes.push(path);
    else if (stat.isSymbolicLink()) links.push({ path, target: readlinkSync(path) });
    else if (stat.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name));
  };
  for (const path of allow) visit(path);
  return { nodes: [...new Set(nodes)], links };
}
