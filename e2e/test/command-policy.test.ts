import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, workspace, type Workspace } from '../src/fence.js';

describe('the command policy and environment of fence', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('refuses a denied command hidden in a shell string, naming the rule, before starting anything', async () => {
    ws = workspace('root');
    writeSettings(ws, { command: { deny: ['git push'] } });
    const r = await fence(ws, ['-c', 'echo started > started.txt; (cd /tmp && /usr/bin/git push origin)']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: command "git push origin" is denied by command\.deny rule "git push"/);
    expect(r.stdout).toBe('');
  });

  it('refuses sudo by default', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['--', 'env', 'X=1', 'sudo', 'ls']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/built-in rule "sudo"/);
  });

  it('drops loader variables and Fence internals from the environment and sets FENCE_SANDBOX=1', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['--', 'sh', '-c', 'env | grep -E "^(LD_|DYLD_|FENCE_)" | sort'], {
      env: { LD_PRELOAD: '/tmp/evil.so', LD_LIBRARY_PATH: '/tmp', DYLD_INSERT_LIBRARIES: 'x', FENCE_DEBUG_SECRET: 'x' },
    });
    expect(r.stdout).toBe('FENCE_SANDBOX=1\n');
  });
});
