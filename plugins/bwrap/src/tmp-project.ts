/**
 * Effects: a working directory under /tmp sees its parents as elsewhere (SPEC §4.1). The sandbox's
 * /tmp is private, so only what is bound shows; binding the working directory alone leaves a
 * repository's subdirectory without its `.git` (`git status`: not a git repository). Fence shows
 * the repository instead: the outermost directory between /tmp and the working directory that
 * holds a `.git` (outermost, so a submodule or nested repository finds its superproject too),
 * read-only unless the policy makes it writable. Nothing else of the host's /tmp is shown:
 * siblings of the repository stay hidden, and without a repository the parents stay empty.
 */
import { lstatSync } from 'node:fs';

const TMP = '/tmp';

const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** The repository root above `cwd` under /tmp (`cwd` itself excluded: it is bound anyway), if any. */
export function tmpProjectRoot(cwd: string): string | undefined {
  if (!cwd.startsWith(`${TMP}/`)) return undefined;
  const parts = cwd.slice(TMP.length + 1).split('/');
  for (let n = 1; n < parts.length; n++) {
    const dir = `${TMP}/${parts.slice(0, n).join('/')}`;
    if (exists(`${dir}/.git`)) return dir;
  }
  return undefined;
}
