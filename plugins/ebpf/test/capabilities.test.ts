import { describe, expect, it } from 'vitest';
import { CAP_BPF, canLoadBpf, effectiveCapabilities, hasCapability } from '../src/capabilities.js';

const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('effectiveCapabilities', () => {
  it('reads CapEff and finds CAP_BPF at bit 39', () => {
    const caps = effectiveCapabilities(status('0000008000000000'));
    expect(hasCapability(caps, CAP_BPF)).toBe(true);
    expect(canLoadBpf(caps)).toBe(true);
  });

  it('accepts CAP_SYS_ADMIN alone, as kernels before CAP_BPF required', () => {
    expect(canLoadBpf(effectiveCapabilities(status('0000000000200000')))).toBe(true);
  });

  it('refuses an unprivileged process and a status without CapEff', () => {
    expect(canLoadBpf(effectiveCapabilities(status('0000000000000000')))).toBe(false);
    expect(effectiveCapabilities('Name:\tx\n')).toBe(0n);
  });
});
