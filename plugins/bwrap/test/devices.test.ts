import { FenceError, Kernel, loadPolicy } from '@fence/core';
import { LINUX_PATHS } from '@fence/linux-helper';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveDevices } from '../src/devices.js';
import { bwrapPlugin } from '../src/index.js';

const linux = process.platform === 'linux';
const refusal = (list: string[]): string => {
  try {
    resolveDevices(list);
  } catch (e) {
    expect(e).toBeInstanceOf(FenceError);
    expect((e as FenceError).code).toBe('PATH_INVALID');
    return (e as FenceError).message;
  }
  throw new Error(`${list.join(', ')} was accepted`);
};

describe.runIf(linux)('resolveDevices (devices.allow on the host)', () => {
  it('keeps a device by its real path', () => {
    expect(resolveDevices(['/dev/null'])).toEqual(['/dev/null']);
  });

  it('refuses a device that does not exist, naming the element and the fix', () => {
    expect(refusal(['/dev/null', '/dev/fence-no-such-device'])).toBe('devices.allow[1]: "/dev/fence-no-such-device" does not exist on this machine (ENOENT); remove it, or load the driver that creates it');
  });

  it.runIf(existsSync('/dev/fd'))('refuses a symlink under /dev whose real path is outside it', () => {
    // /dev/fd → /proc/self/fd: never a device path of its own.
    expect(refusal(['/dev/fd'])).toMatch(/^devices\.allow\[0\]: "\/dev\/fd" leads to \/proc\/\S+, outside \/dev; name a device under \/dev$/);
  });

  it.runIf(existsSync('/dev/shm'))('refuses a directory others can write (/dev/shm), where a name could be swapped', () => {
    expect(refusal(['/dev/shm'])).toContain('devices.allow[0]: "/dev/shm" is neither a device nor a directory of devices only root can write; name a device node');
  });
});

describe.runIf(linux)('the bwrap plugin in a session', () => {
  const options = { platform: 'linux' as const, debug: false, monitor: false, strict: false, ports: [] };
  const session = () => new Kernel({ plugins: [bwrapPlugin], options, cacheDetection: false });

  it('names Linux\'s paths for read isolation, before any detection', () => {
    expect(session().platformPaths).toBe(LINUX_PATHS);
  });

  it('refuses a bad devices.allow when the session starts, with the settings error itself (not a plugin failure)', async () => {
    const { policy } = loadPolicy({ cwd: tmpdir(), home: tmpdir(), env: {}, inline: { devices: { allow: ['/dev/fence-no-such-device'] } } });
    const kernel = session();
    const report = await kernel.detect();
    if (report.get('bwrap')?.status === 'absent') return console.warn(`skipped: ${report.get('bwrap')?.reason}`);
    await expect(kernel.activate(policy)).rejects.toMatchObject({ code: 'PATH_INVALID', message: expect.stringMatching(/^devices\.allow\[0\]: "\/dev\/fence-no-such-device" does not exist/) });
  });
});
