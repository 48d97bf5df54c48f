import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { fence, workspace, type Workspace } from '../src/fence.js';

// fence --landlock-apply (seed compatibility): the plan in FENCE_LAUNCH_PLAN is applied by the native
// helper, reached through the addon's execve, without bwrap: Landlock alone confines the command.
describe('fence --landlock-apply', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('applies the Landlock plan from the environment, then runs the command without the carrier', async () => {
    ws = workspace('root');
    // Not under /tmp: the ruleset grants /tmp, which is private only inside bwrap.
    const dir = mkdtempSync('/var/tmp/fence-e2e-landlock-');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const allowed = join(dir, 'allowed');
    mkdirSync(allowed);
    const { encodeHelperPlan } = await import('@fence/linux-helper');
    const { buildLandlockRuleset } = await import('@fence/plugin-landlock');
    const { loadPolicy } = await import('@fence/core');
    const { policy } = loadPolicy({ cwd: ws.dir, home: ws.home, env: {}, inline: { filesystem: { allowWrite: [allowed] } } });
    const landlock = buildLandlockRuleset({
      abi: 1,
      policy,
      writablePaths: [{ path: allowed, isDirectory: true }],
      devNodes: [{ path: '/dev/null', isDirectory: false }],
      netns: true,
      proxyPorts: [],
      exposedPorts: [],
    });
    const plan = Buffer.from(encodeHelperPlan({ bridges: [], rlimits: [], landlock })).toString('base64');
    const r = await fence(ws, ['--landlock-apply', '--', 'sh', '-c', 'echo in > allowed/f && echo out > outside; env | grep -c FENCE_LAUNCH_PLAN'], {
      env: { FENCE_LAUNCH_PLAN: plan },
      cwd: dir,
    });
    expect(existsSync(join(allowed, 'f'))).toBe(true);
    expect(existsSync(join(dir, 'outside'))).toBe(false);
    expect(r.stderr).toMatch(/outside: Permission denied/);
    expect(r.stdout).toBe('0\n');
  });

  it('isolates reads with Landlock alone (defaultDenyRead): $HOME unreadable, /usr, python3 and the working directory usable', async () => {
    ws = workspace('root');
    const dir = mkdtempSync('/var/tmp/fence-e2e-landlock-');
    const home = mkdtempSync('/var/tmp/fence-e2e-landlock-home-');
    onTestFinished(() => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });
    writeFileSync(join(home, 'secret'), 'fence-e2e-secret\n');
    writeFileSync(join(dir, 'mine'), 'mine\n');
    const { encodeHelperPlan } = await import('@fence/linux-helper');
    const { buildLandlockRuleset, readablePaths, NEEDED_DEV_NODES } = await import('@fence/plugin-landlock');
    const { loadPolicy } = await import('@fence/core');
    const { policy } = loadPolicy({ cwd: dir, home, env: {}, inline: { filesystem: { defaultDenyRead: true } } });
    const readable = await readablePaths(policy);
    const landlock = buildLandlockRuleset({ abi: 1, policy, writablePaths: [], readablePaths: readable!.existing, devNodes: NEEDED_DEV_NODES, netns: true, proxyPorts: [], exposedPorts: [] });
    const plan = Buffer.from(encodeHelperPlan({ bridges: [], rlimits: [], landlock })).toString('base64');
    const script = `cat ${home}/secret; ls /usr/bin | grep -c '^ls$'; python3 -c 'print(2 + 2)'; cat mine`;
    const r = await fence(ws, ['--landlock-apply', '--', 'sh', '-c', script], { env: { FENCE_LAUNCH_PLAN: plan }, cwd: dir });
    expect(r.stdout).toBe('1\n4\nmine\n');
    expect(r.stderr).toMatch(/secret: Permission denied/);
  });

  it('explains a missing plan', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['--landlock-apply', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: --landlock-apply: FENCE_LAUNCH_PLAN is not set/);
  });
});
