/**
 * Placeholders are real files in the user's work tree while the run lasts, so a `git add -A`
 * inside would stage them and an agent's commit would hold a dozen empty files. Inside the
 * sandbox each repository's `.git/info/exclude` is therefore shown (read-only, bwrap
 * `--ro-bind-data`) with the placeholders of its top directory appended; the file on disk is not
 * touched. Only an existing regular `info/exclude` is extended: a missing one is a placeholder
 * itself, and a symlink is not followed.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const isFile = (path: string): boolean => {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
};

/** For each `.git/info/exclude` whose work tree holds placeholders: the content to show inside. */
export function placeholderExcludes(placeholders: readonly string[]): Map<string, string> {
  const byTop = new Map<string, string[]>();
  for (const p of placeholders) {
    const top = dirname(p);
    byTop.set(top, [...(byTop.get(top) ?? []), basename(p)]);
  }
  const out = new Map<string, string>();
  for (const [top, names] of byTop) {
    const exclude = `${top}/.git/info/exclude`;
    if (!isFile(exclude)) continue;
    const own = readFileSync(exclude, 'utf8');
    const lines = names.map((n) => `/${n}`).join('\n');
    out.set(exclude, `${own}${own === '' || own.endsWith('\n') ? '' : '\n'}# Fence: read-only placeholders of this run (not in the file on disk)\n${lines}\n`);
  }
  return out;
}
