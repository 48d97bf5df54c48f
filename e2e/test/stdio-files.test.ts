import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_BIN, own, userArgv, USERS, workspace, type Workspace } from '../src/fence.js';

// A command whose stdin, stdout or stderr is a file the user redirected (`fence -- make >build.log`)
// may reopen it by name (`echo >/dev/stderr`, `cat /dev/stdin`), as outside the sandbox; it gets the
// access its descriptor has, nothing more.
describe.each(USERS)('stdio redirected to files (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  /** Runs fence with stdin from `in`, stdout to `out`, stderr to `err` (all in the home, outside every rule). */
  const run = (script: string) => {
    const [input, out, err] = ['in', 'out', 'err'].map((n) => join(ws.home, n));
    for (const f of [input!, out!, err!]) {
      writeFileSync(f, f === input ? 'from stdin\n' : '');
      own(ws, f);
    }
    const shell = `exec "$0" -c "$1" <"$2" >"$3" 2>"$4"`;
    const [cmd, ...rest] = userArgv(user, ['sh', '-c', shell, FENCE_BIN, script, input!, out!, err!]);
    const r = spawnSync(cmd!, rest, { cwd: ws.dir, env: { PATH: process.env.PATH, HOME: ws.home, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    return { status: r.status, input: readFileSync(input!, 'utf8'), out: readFileSync(out!, 'utf8'), err: readFileSync(err!, 'utf8') };
  };

  it('lets the command reopen them by name: /dev/stdout, /dev/stderr, /dev/stdin', () => {
    ws = workspace(user);
    const r = run('cat /dev/stdin >/dev/stdout; echo to-stderr >/dev/stderr; echo appended >>/dev/stdout');
    expect(r.err).toBe('to-stderr\n');
    expect(r.out).toBe('from stdin\nappended\n');
    expect(r.status).toBe(0);
  });

  it('gives no more than the descriptor has: stdin, opened for reading, cannot be written through /dev/stdin', () => {
    ws = workspace(user);
    const r = run('echo overwritten >/dev/stdin; echo "status=$?"');
    expect(r.input).toBe('from stdin\n');
    expect(r.out).toBe('status=1\n');
    expect(r.err).toMatch(/\/dev\/stdin: Permission denied/);
  });
});
