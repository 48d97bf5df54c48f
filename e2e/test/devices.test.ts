import { existsSync, rmSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

// A device that exists on most Linux machines and that bwrap's minimal /dev does not have.
const DEVICE = ['/dev/fuse', '/dev/net/tun', '/dev/kvm'].find((d) => existsSync(d));
// A directory of devices, passed as a whole (its nodes, not the host directory itself).
const DEVICE_DIR = ['/dev/net', '/dev/dri', '/dev/input'].find((d) => existsSync(d));
if (!DEVICE) console.warn('e2e devices: SKIPPED, this machine has none of /dev/fuse, /dev/net/tun, /dev/kvm to pass through');

/** `kind path` for each path: stat's file type, or `missing`. */
const kinds = (paths: readonly string[]) => paths.map((p) => `printf '%s ' ${p}; stat -c %F ${p} 2>/dev/null || echo missing`).join('; ');

describe.runIf(DEVICE !== undefined).each(USERS)('devices (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());
  const device = DEVICE!;

  it('a device is in the sandbox only when devices.allow lists it; the usual nodes always are', async () => {
    ws = workspace(user);
    const probe = kinds([device, '/dev/null', '/dev/urandom', '/dev/ptmx']);
    const without = await fence(ws, ['-c', probe]);
    expect(without.stdout).toContain(`${device} missing`);
    expect(without.stdout).toContain('/dev/null character special file');
    writeSettings(ws, { devices: { allow: [device] } });
    const listed = await fence(ws, ['-c', probe]);
    expect(listed.stdout).toContain(`${device} character special file`);
  });

  it("a passed device opens as the host's permissions say: for root, and not for uid 65534 when the node is not its", async () => {
    ws = workspace(user);
    writeSettings(ws, { devices: { allow: [device] } });
    const r = await fence(ws, ['-c', `exec 3<>${device} && echo opened || echo refused`]);
    const othersMayWrite = (statSync(device).mode & 0o006) === 0o006;
    expect(r.stdout).toBe(user === 'root' || othersMayWrite ? 'opened\n' : 'refused\n');
  });

  it("nothing inside can add or remove a name in the host's /dev, even in a passed directory or in host mode", async () => {
    ws = workspace(user);
    const dir = DEVICE_DIR ?? '/dev';
    const probe = `/dev/fence-e2e-probe-${process.pid}`;
    const attack = `touch ${dir}/fence-e2e-x-${process.pid}; mkdir ${probe}; rm -f ${device}; echo done`;
    try {
      writeSettings(ws, { devices: { allow: [device, ...(DEVICE_DIR ? [DEVICE_DIR] : [])] } });
      const passed = await fence(ws, ['-c', attack]);
      writeSettings(ws, { devices: { mode: 'host' } });
      const host = await fence(ws, ['-c', attack]);
      expect(passed.stdout + host.stdout).toBe('done\ndone\n');
      expect(existsSync(`${dir}/fence-e2e-x-${process.pid}`)).toBe(false);
      expect(existsSync(probe)).toBe(false);
      expect(existsSync(device)).toBe(true);
    } finally {
      rmSync(`${dir}/fence-e2e-x-${process.pid}`, { force: true });
      rmSync(probe, { recursive: true, force: true });
    }
  });

  it('host mode shows the host\'s /dev; -d says which /dev the sandbox has', async () => {
    ws = workspace(user);
    writeSettings(ws, { devices: { mode: 'host' } });
    const host = await fence(ws, ['-d', '-c', kinds([device])]);
    expect(host.stdout).toContain(`${device} character special file`);
    expect(host.stderr).toContain("[fence:bwrap] devices: host (the host's whole /dev)");
    writeSettings(ws, { devices: { allow: [device] } });
    const minimal = await fence(ws, ['-d', '--', 'true']);
    expect(minimal.stderr).toContain(`[fence:bwrap] devices: auto → minimal (bwrap's /dev: null, zero, full, random, urandom, tty, ptmx, pts, shm); passed through: ${device}`);
  });

  it('a device that does not exist, or a path that leaves /dev, is a settings error naming the element', async () => {
    ws = workspace(user);
    writeSettings(ws, { devices: { allow: [device, '/dev/fence-no-such-device'] } });
    const missing = await fence(ws, ['--', 'true']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('devices.allow[1]: "/dev/fence-no-such-device" does not exist on this machine');
    writeSettings(ws, { devices: { allow: ['/dev/fd'] } });
    const outside = await fence(ws, ['--', 'true']);
    expect(outside.status).toBe(1);
    expect(outside.stderr).toMatch(/devices\.allow\[0\]: "\/dev\/fd" leads to \/proc\/\S+, outside \/dev/);
  });
});
