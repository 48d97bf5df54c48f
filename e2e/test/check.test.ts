import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

describe.each(USERS)('fence check (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('attacks the sandbox and reports every attack stopped', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['check']);
    expect(r.stdout).toContain('✓ stopped: write outside the allowed paths');
    expect(r.stdout).toContain('✓ stopped: reach a host service directly');
    expect(r.stdout).toContain('fence check: every attack was stopped');
    expect(r.status).toBe(0);
  });

  it('reports an attack the policy lets through, and fails', async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: ['/var/tmp'] } });
    const r = await fence(ws, ['check']);
    expect(r.stdout).toContain('✗ NOT stopped: write outside the allowed paths');
    expect(r.status).toBe(1);
  });
});
