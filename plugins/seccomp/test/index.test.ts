import { Kernel, loadPolicy, type LaunchPlan, type SettingsInput, createLaunchPlan } from '@fence/core';
import { describe, expect, it } from 'vitest';
import seccompDefault, { buildSeccompProgram, seccompArchOf, seccompPlugin } from '../src/index.js';

const arch = seccompArchOf(process.arch);
const runnable = process.platform === 'linux' && arch !== undefined;

async function prepare(settings: SettingsInput): Promise<LaunchPlan> {
  const { policy } = loadPolicy({ cwd: process.cwd(), home: '/nonexistent', env: {}, inline: settings });
  const kernel = new Kernel({
    plugins: [seccompPlugin],
    options: { platform: 'linux', debug: false, monitor: false, strict: false, ports: [] },
    logger: { debug: () => {}, warn: () => {}, debugEnabled: false },
  });
  const report = await kernel.activate(policy);
  const plan = createLaunchPlan(policy, () => '/nonexistent');
  await kernel.hooks.prepare.promise(plan, report);
  return plan;
}

describe('seccompPlugin', () => {
  it('is the default export and serves Linux syscalls', () => {
    expect(seccompDefault).toBe(seccompPlugin);
    expect(seccompPlugin).toMatchObject({ name: 'seccomp', platforms: ['linux'], provides: ['syscalls'] });
  });

  it.skipIf(!runnable)('puts the program for this architecture in the helper plan, refusing AF_UNIX by default', async () => {
    const plan = await prepare({});
    expect(plan.helper.seccomp).toEqual(buildSeccompProgram({ arch: arch!, allowUnixSockets: false }));
    const notes = plan.notes.filter((n) => n.layer === 'seccomp').map((n) => n.message);
    expect(notes[0]).toMatch(new RegExp(`^${arch} filter, \\d+ instructions`));
    expect(notes).toContain('socket(AF_UNIX) refused: the policy allows no Unix sockets (socketpair stays allowed)');
  });

  it.skipIf(!runnable)('allows AF_UNIX sockets when the policy allows a Unix socket path', async () => {
    const plan = await prepare({ network: { allowUnixSockets: ['/run/docker.sock'] } });
    expect(plan.helper.seccomp).toEqual(buildSeccompProgram({ arch: arch!, allowUnixSockets: true }));
  });
  if (!runnable) console.log(`skipped: seccomp programs exist for linux x64/arm64 only (this is ${process.platform} ${process.arch})`);
});
