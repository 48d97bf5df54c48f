import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectSeccomp, probeSeccomp, seccompAvailability, type SeccompFacts } from '../src/detect.js';

const ALL_ACTIONS = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'];
const linux = process.platform === 'linux';

describe('probeSeccomp', () => {
  it.skipIf(!linux)('reads this kernel: seccomp present and its actions listed', async () => {
    const facts = await probeSeccomp();
    expect(facts.supported).toBe(true);
    if (existsSync('/proc/sys/kernel/seccomp/actions_avail')) expect(facts.actions).toContain('errno');
  });

  it.skipIf(!linux)('asks the native addon for the filter flags when it is built', async () => {
    const specifier = '@fence/native';
    const native = (await import(specifier).catch(() => undefined)) as { addon?: () => unknown } | undefined;
    if (!native?.addon?.()) {
      console.log('skipped: @fence/native is not built here (cd native/fence-native && npm run build)');
      return;
    }
    const facts = await probeSeccomp();
    expect(facts.flags).toContain('tsync');
    expect(facts.flags?.includes('log')).toBe(facts.actions?.includes('log'));
  });

  it('maps Node architectures to the ones Fence filters', async () => {
    expect((await probeSeccomp('x64')).arch).toBe('x86_64');
    expect((await probeSeccomp('arm64')).arch).toBe('aarch64');
    expect((await probeSeccomp('s390x')).arch).toBeUndefined();
  });
});

describe('detectSeccomp', () => {
  it.skipIf(!linux)('reports seccomp(log) on a kernel that can log denials', async () => {
    const facts = await probeSeccomp();
    const a = await detectSeccomp();
    if (!facts.actions?.includes('log') || !facts.arch) {
      console.log('skipped: this kernel cannot log seccomp denials or the architecture is unsupported');
      return;
    }
    expect(a).toMatchObject({ status: 'available', summary: 'seccomp(log)', facts: { log: true, arch: facts.arch } });
    expect(a.features?.[0]?.mark).toBe('✓');
  });
});

describe('seccompAvailability', () => {
  const base: SeccompFacts = { arch: 'x86_64', supported: true, inheritedFilters: 0, actions: ALL_ACTIONS, logged: ALL_ACTIONS.slice(0, -1) };

  it('is available with seccomp(log) when the kernel knows the LOG action', () => {
    const a = seccompAvailability(base);
    expect(a.status).toBe('available');
    expect(a.summary).toBe('seccomp(log)');
    expect(a.features).toEqual([
      {
        mark: '✓',
        name: 'Seccomp',
        value: 'actions kill_process kill_thread trap errno user_notif trace log allow',
        consequence: 'dangerous syscalls fail with EPERM; denials are logged to the audit log',
      },
    ]);
  });

  it('is degraded without the LOG action (kernels before 4.14)', () => {
    const a = seccompAvailability({ arch: 'aarch64', supported: true });
    expect(a).toMatchObject({ status: 'degraded', summary: 'seccomp', reason: 'kernel cannot log seccomp denials (needs 4.14+)' });
    expect(a.features?.[0]).toMatchObject({ mark: '○', value: 'actions unknown' });
  });

  it('is degraded when the kernel refuses SECCOMP_FILTER_FLAG_LOG', () => {
    expect(seccompAvailability({ ...base, flags: ['tsync'] }).status).toBe('degraded');
  });

  it('says -m shows every denial when a supervisor can run (USER_NOTIF and NEW_LISTENER)', () => {
    const a = seccompAvailability({ ...base, flags: ['tsync', 'log', 'new_listener'] });
    expect(a.facts).toMatchObject({ notify: true });
    expect(a.features?.[0]?.consequence).toBe('dangerous syscalls fail with EPERM; -m shows each denial to any user (supervisor)');
    expect(seccompAvailability({ ...base, flags: ['tsync', 'log'] }).facts).toMatchObject({ notify: false });
  });

  it('says when the administrator turned errno logging off', () => {
    const a = seccompAvailability({ ...base, logged: ['kill_process'] });
    expect(a.features?.[0]?.consequence).toMatch(/add errno to kernel.seccomp.actions_logged/);
  });

  it('shows the filter flags and inherited filters when known', () => {
    const a = seccompAvailability({ ...base, flags: ['tsync', 'log'], inheritedFilters: 1 });
    expect(a.features?.[0]?.value).toMatch(/; flags tsync log; 1 inherited filter\(s\)$/);
  });

  it('is absent on other architectures and kernels without seccomp', () => {
    expect(seccompAvailability({ ...base, arch: undefined })).toMatchObject({ status: 'absent', reason: expect.stringMatching(/architecture/) });
    expect(seccompAvailability({ ...base, supported: false })).toMatchObject({ status: 'absent', reason: expect.stringMatching(/CONFIG_SECCOMP/) });
  });
});
