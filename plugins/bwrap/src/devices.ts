/**
 * devices.allow as bwrap will show it: each device node by itself, a directory (/dev/dri) as the
 * device nodes and links it holds. The sandbox's /dev stays bwrap's own tmpfs, so nothing inside,
 * root included, can create, remove or rename a name in the host's /dev; only the nodes are the
 * host's. (A read-only bind would not do: bwrap remounts read-only with nodev, and the devices
 * would no longer open.)
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface PassedDevices {
  /** Device nodes (real paths under /dev), bound from the host with device access. */
  readonly nodes: readonly string[];
  /** Symbolic links inside a passed directory (/dev/dri/by-path/…), made again inside. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/** The nodes and links of `allow` (paths the settings checked: real, under /dev, existing). */
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
