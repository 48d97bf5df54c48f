import { describe, expect, it } from 'vitest';
import { processProbe } from '@fence/core';
import { bwrapInstallHint, detectBwrap } from '../src/detect.js';

describe('detectBwrap', () => {
  it('reports bwrap as absent with the install command when it is not on PATH', async () => {
    const a = await detectBwrap({ which: () => undefined, run: processProbe.run });
    expect(a.status).toBe('absent');
    expect(a.reason).toBe('bubblewrap (bwrap) is not installed; install it with: apt install bubblewrap');
    expect(bwrapInstallHint).toBe(a.reason);
    expect(a.features?.find((f) => f.name === 'Bubblewrap (bwrap)')?.mark).toBe('✗');
  });

  it('probes the real namespaces and describes each feature', async () => {
    const a = await detectBwrap();
    if (!processProbe.which('bwrap')) return console.warn('skipped: bwrap is not installed');
    expect(a.facts).toMatchObject({ userns: expect.any(Boolean), netns: expect.any(Boolean), version: expect.stringMatching(/^\d+\.\d+/) });
    expect(a.features?.map((f) => f.name)).toEqual(['Kernel version', 'Bubblewrap (bwrap)', 'Native helper (fence-launch)', 'User namespaces', 'Network namespace (--unshare-net)', 'Captured connections (fence-launch --netns)', 'Resource limits']);
    if (a.facts?.netns) expect(a.summary).toBe('bwrap(network,pid,fs)');
    else expect(a.status).toBe('degraded');
  });

  it('is absent, naming the upgrade, when bwrap cannot bind by descriptor', async () => {
    if (!processProbe.which('bwrap')) return console.warn('skipped: bwrap is not installed');
    const prober = {
      which: processProbe.which,
      run: (argv: readonly string[]) => (argv.includes('--help') ? { status: 0, stdout: '    --bind SRC DEST\n', stderr: '' } : processProbe.run(argv)),
    };
    const a = await detectBwrap(prober);
    expect(a.status).toBe('absent');
    expect(a.reason).toMatch(/cannot bind by descriptor \(--bind-fd\).*install bubblewrap 0\.10 or later/);
  });

  it('degrades, naming the cause, when the network namespace cannot be created', async () => {
    const prober = {
      which: processProbe.which,
      run: (argv: readonly string[]) =>
        argv.includes('--unshare-net')
          ? { status: 1, stdout: '', stderr: 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n' }
          : processProbe.run(argv),
    };
    if (!processProbe.which('bwrap')) return console.warn('skipped: bwrap is not installed');
    const a = await detectBwrap(prober);
    expect(a.status).toBe('degraded');
    expect(a.facts).toMatchObject({ netns: false });
    expect(a.reason).toContain('no network namespace');
    expect(a.summary).toBe('bwrap(pid,fs)');
  });

  it("says the capture is unusable, with the helper's error, when the helper cannot make its namespace", async () => {
    if (!processProbe.which('bwrap')) return console.warn('skipped: bwrap is not installed');
    const prober = {
      which: processProbe.which,
      run: (argv: readonly string[]) =>
        argv.includes('--netns') ? { status: 125, stdout: '', stderr: 'fence-launch: netns: write /proc/self/uid_map: Operation not permitted\n' } : processProbe.run(argv),
    };
    const a = await detectBwrap(prober);
    if (a.facts?.helper !== true || a.facts.netns !== true) return console.warn('skipped: needs the native helper and a network namespace');
    expect(a.facts).toMatchObject({ captureNetns: false, captureError: 'fence-launch: netns: write /proc/self/uid_map: Operation not permitted' });
    expect(a.features?.find((f) => f.name.startsWith('Captured connections'))).toMatchObject({ mark: '○', value: 'unusable' });
  });
});
