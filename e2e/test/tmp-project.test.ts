import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, hasProgram, own, userArgv, USERS, workspace, type Workspace } from '../src/fence.js';

const git = hasProgram('git');
if (!git) console.warn('e2e: projects under /tmp: SKIPPED: git is not installed');

/** A repository under /tmp (the workspace is there) with a subdirectory, and an unrelated sibling. */
function repository(ws: Workspace): { repo: string; sub: string; sibling: string } {
  const repo = join(ws.dir, 'repo');
  const sub = join(repo, 'sub');
  const sibling = join(ws.dir, 'unrelated-secret.txt');
  const [cmd, ...args] = userArgv(ws.user, ['git', 'init', '-q', repo]);
  const init = spawnSync(cmd!, args);
  expect(init.status, String(init.stderr)).toBe(0);
  mkdirSync(sub);
  writeFileSync(join(sub, 'file.txt'), 'x\n');
  writeFileSync(sibling, 'secret\n');
  for (const p of [sub, join(sub, 'file.txt'), sibling]) own(ws, p);
  return { repo, sub, sibling };
}

describe.skipIf(!git).each(USERS)('a working directory under /tmp (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it.each([[[] as string[]], [['-t', 'workspace-write']]])('finds its repository from a subdirectory (flags %j)', async (flags) => {
    ws = workspace(user);
    const { sub } = repository(ws);
    const r = await fence(ws, [...flags, '--', 'git', 'status', '--porcelain'], { cwd: sub });
    expect(r.stderr).not.toContain('not a git repository');
    expect(r.stdout).toBe('?? sub/\n');
    expect(r.status).toBe(0);
  });

  it('shows the repository read-only and keeps its siblings hidden', async () => {
    ws = workspace(user);
    const { repo, sub, sibling } = repository(ws);
    const r = await fence(ws, ['-t', 'workspace-write', '-c', `ls -A ${ws.dir}; cat ${sibling}; touch ${repo}/new || echo refused; touch ok && echo wrote`], { cwd: sub });
    expect(r.stdout).toBe('repo\nrefused\nwrote\n');
    expect(r.stderr).toContain('No such file');
  });
});
