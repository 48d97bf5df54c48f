import { Kernel, loadPolicy, type LaunchPlan, type SettingsInput, createLaunchPlan } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { helperSession, type HelperPlan } from '@fence/linux-helper';
import seccompDefault, { buildSeccompProgram, seccompArchOf, seccompPlugin, splitSeccompPrograms } from '../src/index.js';

const arch = seccompArchOf(process.arch);
const runnable = process.platform === 'linux' && arch !== undefined;

async function prepare(settings: SettingsInput): Promise<{ plan: LaunchPlan; helper: HelperPlan; kernel: Kernel }> {
  const { policy } = loadPolicy({ cwd: process.cwd(), home: '/nonexistent', env: {}, inline: settings });
  const kernel = new Kernel({
    plugins: [seccompPlugin],
    options: { platform: 'linux', debug: false, monitor: false, strict: false, ports: [] },
    logger: { debug: () => {}, warn: () => {}, notice: () => {}, debugEnabled: false },
  });
  const report = await kernel.activate(policy);
  const plan = createLaunchPlan(policy, { path: () => '/nonexistent', created: false });
  await kernel.hooks.prepare.promise(plan, report);
  return { plan, helper: helperSession(kernel).plan, kernel };
}

describe('seccompPlugin', () => {
  it('is the default export and serves Linux syscalls', () => {
    expect(seccompDefault).toBe(seccompPlugin);
    expect(seccompPlugin).toMatchObject({ name: 'seccomp', platforms: ['linux'], provides: ['syscalls'] });
  });

  it.skipIf(!runnable)('puts the logged program in the helper plan and the AF_UNIX rule in the quiet one by default', async () => {
    const { plan, helper } = await prepare({});
    const { logged, quiet } = splitSeccompPrograms({ arch: arch!, allowUnixSockets: false });
    expect(helper.seccomp).toEqual(logged);
    expect(helper.seccompQuiet).toEqual(quiet);
    expect(quiet).toBeDefined();
    const notes = plan.notes.filter((n) => n.layer === 'seccomp').map((n) => n.message);
    expect(notes[0]).toMatch(new RegExp(`^${arch} filter, \\d+ instructions`));
    expect(notes).toContain('socket(AF_UNIX) and datagram socketpairs refused: the policy allows no Unix sockets (stream socketpairs stay allowed)');
  });

  it.skipIf(!runnable)('allows AF_UNIX sockets, leaving only clone3 quiet, when the policy allows a Unix socket path', async () => {
    const { helper } = await prepare({ network: { allowUnixSockets: ['/run/docker.sock'] } });
    const { logged, quiet } = splitSeccompPrograms({ arch: arch!, allowUnixSockets: true });
    expect(helper.seccomp).toEqual(logged);
    expect(helper.seccompQuiet).toEqual(quiet);
  });

  it.skipIf(!runnable)('gives a sandbox that installs one filter every rule of the two in one program', async () => {
    const allowed = await prepare({ network: { allowUnixSockets: ['/run/docker.sock'] } });
    expect(helperSession(allowed.kernel).hooks.singleFilter.call()).toEqual(buildSeccompProgram({ arch: arch!, allowUnixSockets: true }));
    const refused = await prepare({});
    expect(helperSession(refused.kernel).hooks.singleFilter.call()).toEqual(buildSeccompProgram({ arch: arch!, allowUnixSockets: false }));
  });

  it.skipIf(!runnable)('runs no supervisor without -m', async () => {
    expect((await prepare({})).helper.seccompNotify).toBeUndefined();
  });
  if (!runnable) console.log(`skipped: seccomp programs exist for linux x64/arm64 only (this is ${process.platform} ${process.arch})`);
});
