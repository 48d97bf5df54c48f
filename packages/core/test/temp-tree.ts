/** Temporary directory trees for settings tests; every tree is removed by `removeTrees()`. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const trees: string[] = [];

/** A fresh directory (real path) holding `files` (relative path → content; a trailing `/` makes a directory). */
export function tempTree(files: Record<string, string> = {}): string {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'fence-settings-')));
  trees.push(root);
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(root, name);
    if (name.endsWith('/')) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }
  return root;
}

export function removeTrees(): void {
  for (const t of trees.splice(0)) rmSync(t, { recursive: true, force: true });
}
