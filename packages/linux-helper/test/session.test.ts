import { Kernel, type KernelOptions } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { helperSession } from '../src/index.js';

const options: KernelOptions = { platform: 'linux', debug: false, monitor: false, strict: false, ports: [] };
const session = () => new Kernel({ plugins: [], options, cacheDetection: false });

describe('helperSession', () => {
  it('is one plan and one set of hooks per session, empty at first', () => {
    const a = session();
    const b = session();
    expect(helperSession(a)).toBe(helperSession(a));
    expect(helperSession(a)).not.toBe(helperSession(b));
    expect(helperSession(a).plan).toEqual({ bridges: [], rlimits: [] });
    helperSession(a).plan.bridges.push({ kind: 'tcp-to-unix', port: 3128, fd: 4 });
    expect(helperSession(b).plan.bridges).toEqual([]);
  });

  it('asks holdStart and singleFilter of the layers that answer, first answer wins', () => {
    const { hooks } = helperSession(session());
    expect(hooks.holdStart.call()).toBeUndefined();
    hooks.holdStart.tap('quiet', () => undefined);
    hooks.holdStart.tap('monitor', () => true);
    expect(hooks.holdStart.call()).toBe(true);
    const program = new Uint8Array(8);
    hooks.singleFilter.tap('seccomp', () => program);
    expect(hooks.singleFilter.call()).toBe(program);
  });

  it('names the plugin and the hook when a tap fails', () => {
    const { hooks } = helperSession(session());
    hooks.bridgeHandoff.tap('proxy', () => {
      throw new Error('no tunnels');
    });
    expect(() => hooks.bridgeHandoff.call()).toThrow(expect.objectContaining({ code: 'PLUGIN_FAILED', message: 'plugin proxy failed in bridgeHandoff: no tunnels' }));
  });
});
