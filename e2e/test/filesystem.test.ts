import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, USERS, workspace, type Workspace } from '../src/fence.js';

describe.each(USERS)('the sandbox filesystem (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('refuses writes to /etc with "Read-only file system"', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'touch', '/etc/fence-e2e-x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
    expect(existsSync('/etc/fence-e2e-x')).toBe(false);
  });

  it('refuses writes to the working directory by default', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'sh', '-c', 'echo x > file']);
    expect(r.status).not.toBe(0);
    expect(existsSync(join(ws.dir, 'file'))).toBe(false);
  });

  it('allows writes to the working directory with workspace-write', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-t', 'workspace-write', '--', 'sh', '-c', 'echo hello > file']);
    expect(r.status).toBe(0);
    expect(existsSync(join(ws.dir, 'file'))).toBe(true);
  });

  it('keeps a private /tmp that leaves nothing on the host', async () => {
    ws = workspace(user);
    const name = `/tmp/fence-e2e-private-${process.pid}`;
    const r = await fence(ws, ['--', 'sh', '-c', `echo x > ${name} && cat ${name}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('x\n');
    expect(existsSync(name)).toBe(false);
  });

  it('keeps the private /tmp writable when the working directory is /tmp', async () => {
    ws = workspace(user);
    const name = `/tmp/fence-e2e-cwd-tmp-${process.pid}`;
    const r = await fence(ws, ['--', 'sh', '-c', `pwd && echo x > ${name} && cat ${name}`], { cwd: '/tmp' });
    expect(r.stdout).toBe('/tmp\nx\n');
    expect(existsSync(name)).toBe(false);
  });

  it('propagates the exit status and 128+N on a signal', async () => {
    ws = workspace(user);
    expect((await fence(ws, ['--', 'sh', '-c', 'exit 7'])).status).toBe(7);
    expect((await fence(ws, ['--', 'sh', '-c', 'kill -TERM $$'])).status).toBe(143);
  });

  it('runs -c strings with shell semantics', async () => {
    ws = workspace(user);
    writeFileSync(join(ws.dir, 'a'), '');
    const r = await fence(ws, ['-c', 'echo hi && ls']);
    expect(r.stdout).toBe('hi\na\n');
  });
});
