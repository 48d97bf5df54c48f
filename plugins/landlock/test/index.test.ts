import { Kernel, PrepareStage } from '@fence/core';
import { describe, expect, it } from 'vitest';
import landlockDefault, { landlockPlugin } from '../src/index.js';

describe('landlockPlugin', () => {
  it('is the default export and a Linux filesystem-lsm layer required under --strict', () => {
    expect(landlockDefault).toBe(landlockPlugin);
    expect(landlockPlugin).toMatchObject({ name: 'landlock', platforms: ['linux'], provides: ['filesystem-lsm'] });
    expect(landlockPlugin.requiredUnderStrict?.({ monitor: false })).toBe(true);
  });

  it('taps prepare at the kernel-layers stage', () => {
    const kernel = new Kernel({ plugins: [], options: { platform: 'linux', debug: false, monitor: false, strict: false, ports: [] } });
    landlockPlugin.apply(kernel);
    expect(kernel.hooks.prepare.taps).toMatchObject([{ name: 'landlock', stage: PrepareStage.KERNEL_LAYERS }]);
  });
});
