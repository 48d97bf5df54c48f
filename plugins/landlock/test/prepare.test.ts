import { Kernel, type Availability, type Logger, createLaunchPlan } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { describe, expect, it } from 'vitest';
import { AccessNet } from '../src/landlock-rules.js';
import { prepareLandlock, sandboxHasNetns } from '../src/prepare.js';
import { testPolicy } from './policy.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debugEnabled: true, debug: (layer, m) => lines.push(`[fence:${layer}] ${m}`), warn: (m) => lines.push(`warn ${m}`), notice: (m) => lines.push(`notice ${m}`) };
}

function setup(opts: { abi: number; bwrap?: Availability; strict?: boolean; allowWrite?: string[] }) {
  const logger = capture();
  const kernel = new Kernel({
    plugins: [],
    logger,
    options: { platform: 'linux', debug: true, monitor: false, strict: opts.strict ?? false, ports: [8080] },
  });
  const plan = createLaunchPlan(testPolicy({ filesystem: { allowWrite: opts.allowWrite ?? [] } }), { path: () => '/nonexistent', created: false });
  const report = new Map<string, Availability>([['landlock', { status: 'available', facts: { abi: opts.abi } }]]);
  if (opts.bwrap) report.set('bwrap', opts.bwrap);
  return { logger, kernel, plan, report };
}

const bwrapWithNetns: Availability = { status: 'available', facts: { netns: true } };
const bwrapWithoutNetns: Availability = { status: 'degraded', facts: { netns: false } };

describe('sandboxHasNetns', () => {
  it('follows the netns fact of an active bwrap and assumes one when bwrap says nothing', () => {
    expect(sandboxHasNetns(new Map([['bwrap', bwrapWithNetns]]))).toBe(true);
    expect(sandboxHasNetns(new Map([['bwrap', bwrapWithoutNetns]]))).toBe(false);
    expect(sandboxHasNetns(new Map([['bwrap', { status: 'available' }]]))).toBe(true);
  });

  it('finds no network namespace without bwrap', () => {
    expect(sandboxHasNetns(new Map())).toBe(false);
    expect(sandboxHasNetns(new Map([['bwrap', { status: 'absent', facts: { netns: true } }]]))).toBe(false);
  });
});

describe('prepareLandlock', () => {
  it('hands the ruleset to the helper and prints the -d lines in order', async () => {
    const { logger, kernel, plan, report } = setup({ abi: 7, bwrap: bwrapWithNetns, allowWrite: ['/tmp/does-not-exist-fence'] });
    await prepareLandlock(kernel, plan, report);
    expect(helperSession(kernel).plan.landlock?.abi).toBe(7);
    expect(helperSession(kernel).plan.landlock?.ports).toEqual([{ port: 8080, access: AccessNet.BIND_TCP }]);
    expect(logger.lines[0]).toBe('[fence:landlock] Skipped allowWrite (does not exist): /tmp/does-not-exist-fence');
    expect(logger.lines[1]).toBe('[fence:landlock] Created ruleset (ABI v7)');
    expect(logger.lines[2]).toBe('[fence:landlock] Allow read-execute: /');
    expect(logger.lines.at(-1)).toBe('[fence:landlock] Applied restrictions (ABI v7)');
  });

  it('restricts TCP connect to the proxy ports when bwrap has no network namespace', async () => {
    const { kernel, plan, report } = setup({ abi: 4, bwrap: bwrapWithoutNetns });
    await prepareLandlock(kernel, plan, report);
    expect(helperSession(kernel).plan.landlock?.handledAccessNet).toBe(AccessNet.BIND_TCP | AccessNet.CONNECT_TCP);
    expect(helperSession(kernel).plan.landlock?.ports.filter((p) => p.access === AccessNet.CONNECT_TCP).map((p) => p.port)).toEqual([1080, 3128]);
  });

  it('fails under --strict when the ABI cannot restrict TCP and there is no network namespace', async () => {
    const { kernel, plan, report } = setup({ abi: 3, bwrap: bwrapWithoutNetns, strict: true });
    await expect(prepareLandlock(kernel, plan, report)).rejects.toMatchObject({
      code: 'LAYER_UNAVAILABLE',
      message: expect.stringMatching(/landlock .*needs ABI v4/),
    });
    expect(helperSession(kernel).plan.landlock).toBeUndefined();
  });

  it('degrades with a note without --strict', async () => {
    const { kernel, plan, report } = setup({ abi: 3, bwrap: bwrapWithoutNetns });
    await prepareLandlock(kernel, plan, report);
    expect(helperSession(kernel).plan.landlock?.handledAccessNet).toBe(0);
    expect(plan.notes[0]?.message).toMatch(/^Degraded: no network namespace and Landlock ABI v3/);
  });
});
