import { describe, expect, it } from 'vitest';
import { abiConsequence, detectLandlock, REASONS } from '../src/detect.js';
import { loadNative } from '@fence/linux-helper';

const native = await loadNative();
const abi = native?.addon()?.landlockAbiVersion();
const helper = native?.helperPath();

describe('detectLandlock', () => {
  it('reports this machine as the native probe sees it', async () => {
    const a = await detectLandlock();
    if (!native || abi === undefined || !helper) {
      console.log(`detectLandlock: @fence/native not built here (helper ${helper ?? 'missing'}); expecting absent`);
      expect(a.status).toBe('absent');
      expect([REASONS.noHelper, REASONS.noKernelSupport, REASONS.disabledAtBoot]).toContain(a.reason);
      return;
    }
    if (abi < 1) {
      expect(a).toMatchObject({ status: 'absent', features: [{ mark: '✗', value: 'none' }] });
      return;
    }
    expect(a).toMatchObject({
      status: 'available',
      summary: `landlock-v${Math.min(abi, 7)}(wrapper)`,
      facts: { abi },
      features: [{ mark: '✓', name: 'Landlock', value: `ABI v${abi}` }],
    });
  });

  it('never throws and always explains itself with a feature line', async () => {
    const a = await detectLandlock();
    expect(a.features).toHaveLength(1);
    if (a.status !== 'available') expect(a.reason).toBeTruthy();
  });
});

describe('abiConsequence', () => {
  it('names what an old ABI cannot enforce and the kernel that adds it', () => {
    expect(abiConsequence(3)).toBe(
      'kernel enforces writes only to /tmp, /dev and allowWrite; not enforced: TCP ports (v4, 6.7+), ' +
        'device ioctl (v5, 6.10+), signal and abstract-socket scoping (v6, 6.12+), denials audited after exec (v7, 6.15+)',
    );
  });

  it('lists everything on ABI v7', () => {
    expect(abiConsequence(7)).not.toContain('not enforced');
    expect(abiConsequence(7)).toContain('denials audited after exec');
  });
});
