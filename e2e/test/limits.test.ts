import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

describe.each(USERS)('resource limits (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());


  it('applies memory, process, CPU and open-file limits to the command', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { memoryMB: 256, processes: 500, cpuSeconds: 30, openFiles: 64 } });
    const r = await fence(ws, ['--', 'bash', '-c', 'ulimit -v; ulimit -u; ulimit -t; ulimit -n']);
    expect(r.stdout).toBe(`${256 * 1024}\n500\n30\n64\n`);
  });

  it('stops a command that runs past wallSeconds, and says so', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { wallSeconds: 1 } });
    // sleep 600 outlives the harness's own 30 s timeout: 143 can only come from the wall limit.
    const r = await fence(ws, ['--', 'sleep', '600']);
    expect(r.status).toBe(143);
    expect(r.stderr).toContain('limits.wallSeconds: the command ran for 1 s and was stopped');
  });
});
