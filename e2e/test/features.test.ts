import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, workspace, type Workspace } from '../src/fence.js';

describe('fence --linux-features', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('is true to this machine', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['--linux-features']);
    expect(r.status).toBe(0);
    const bwrapVersion = /\d+\.\d+\.\d+/.exec(spawnSync('bwrap', ['--version'], { encoding: 'utf8' }).stdout)![0];
    const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    expect(r.stdout).toContain(`✓ Bubblewrap (bwrap): ${bwrapVersion}`);
    expect(r.stdout).toContain(`Kernel version: ${kernel}`);
    const { addon } = (await import('@fence/native')) as typeof import('@fence/native');
    const abi = addon()?.landlockAbiVersion() ?? 0;
    if (abi > 0) expect(r.stdout).toContain(`✓ Landlock: ABI v${abi}`);
    const actions = readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8').trim();
    expect(r.stdout).toContain(`Seccomp: actions ${actions}`);
    expect(r.stdout).toMatch(/^Sandbox: .*bwrap\(network,pid,fs\).*seccomp\(log\)/m);
  });
});

describe('third-party plugins', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const PLUGIN = `export default {
  name: 'audit-note', platforms: ['linux'], provides: ['test'],
  async detect() { return { status: 'available', summary: 'audit-note' }; },
  apply(kernel) {
    kernel.hooks.prepare.tap({ name: 'audit-note', stage: 1000 }, (plan) => {
      process.stderr.write('audit-note saw ' + plan.wrappers.map((w) => w.layer).join(',') + '\\n');
    });
  },
};
`;

  it('loads a plugin named by --plugin and by the settings, with the same contract', async () => {
    ws = workspace('root');
    writeFileSync(join(ws.dir, 'audit-note.mjs'), PLUGIN);
    const byFlag = await fence(ws, ['--plugin', './audit-note.mjs', '--', 'true']);
    expect(byFlag.stderr).toBe('audit-note saw bwrap\n');
    writeSettings(ws, { plugins: ['./audit-note.mjs'] });
    expect((await fence(ws, ['--', 'true'])).stderr).toBe('audit-note saw bwrap\n');
  });

  it('explains a plugin that cannot be loaded', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['--plugin', 'no-such-fence-plugin', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: plugin "no-such-fence-plugin" could not be loaded: /);
  });
});

