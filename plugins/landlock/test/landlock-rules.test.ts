import { describe, expect, it } from 'vitest';
import {
  AccessFs,
  AccessNet,
  buildLandlockRuleset,
  describeRuleset,
  fileOnly,
  missingFeatures,
  NEEDED_DEV_NODES,
  readWrite,
  RestrictSelf,
  Scope,
  type LandlockInput,
} from '../src/landlock-rules.js';
import { testPolicy } from './policy.js';

const V1_FS = 0x1fff;
const HANDLED_FS: Record<number, number> = {
  1: V1_FS,
  2: V1_FS | AccessFs.REFER,
  3: V1_FS | AccessFs.REFER | AccessFs.TRUNCATE,
  4: V1_FS | AccessFs.REFER | AccessFs.TRUNCATE,
  5: 0xffff,
  6: 0xffff,
  7: 0xffff,
};
const FILE_RIGHTS = AccessFs.EXECUTE | AccessFs.WRITE_FILE | AccessFs.READ_FILE | AccessFs.TRUNCATE | AccessFs.IOCTL_DEV;

function input(abi: number, over: Partial<LandlockInput> = {}): LandlockInput {
  return {
    abi,
    policy: testPolicy(),
    writablePaths: [
      { path: '/work', isDirectory: true },
      { path: '/home/user/.npmrc', isDirectory: false },
    ],
    devNodes: NEEDED_DEV_NODES,
    netns: true,
    proxyPorts: [3128, 1080],
    exposedPorts: [],
    ...over,
  };
}

const accessOf = (abi: number, path: string, over: Partial<LandlockInput> = {}) =>
  buildLandlockRuleset(input(abi, over)).paths.find((p) => p.path === path)?.access;

describe('buildLandlockRuleset', () => {
  for (const abi of [1, 2, 3, 4, 5, 6, 7]) {
    describe(`on ABI v${abi}`, () => {
      const rs = buildLandlockRuleset(input(abi, { netns: false, exposedPorts: [8080] }));

      it('handles exactly the file system rights the ABI knows', () => {
        expect(rs.abi).toBe(abi);
        expect(rs.handledAccessFs).toBe(HANDLED_FS[abi]);
      });

      it('never grants a right the ruleset does not handle (landlock_add_rule would fail with EINVAL)', () => {
        for (const p of rs.paths) expect(p.access & ~rs.handledAccessFs, p.path).toBe(0);
        for (const p of rs.ports) expect(p.access & ~rs.handledAccessNet, String(p.port)).toBe(0);
      });

      it('gives a file only file rights', () => {
        for (const path of ['/home/user/.npmrc', '/dev/null', '/dev/tty', '/dev/urandom']) {
          const access = rs.paths.find((p) => p.path === path)!.access;
          expect(access & ~FILE_RIGHTS, path).toBe(0);
          expect(access & AccessFs.WRITE_FILE, path).toBe(AccessFs.WRITE_FILE);
        }
      });

      it('allows read and execute on / and read-write on /tmp and the allowWrite directories', () => {
        expect(accessOf(abi, '/')).toBe(AccessFs.EXECUTE | AccessFs.READ_FILE | AccessFs.READ_DIR);
        expect(accessOf(abi, '/tmp')).toBe(readWrite(abi));
        expect(accessOf(abi, '/work')).toBe(readWrite(abi));
        expect(readWrite(abi) & (AccessFs.MAKE_REG | AccessFs.MAKE_DIR | AccessFs.REMOVE_FILE)).not.toBe(0);
        expect(readWrite(abi) & (AccessFs.MAKE_CHAR | AccessFs.MAKE_BLOCK)).toBe(0);
      });

      it('adds REFER, TRUNCATE and IOCTL_DEV exactly from their ABI on', () => {
        expect(Boolean(accessOf(abi, '/tmp')! & AccessFs.REFER)).toBe(abi >= 2);
        expect(Boolean(accessOf(abi, '/home/user/.npmrc')! & AccessFs.TRUNCATE)).toBe(abi >= 3);
        expect(Boolean(accessOf(abi, '/dev/tty')! & AccessFs.IOCTL_DEV)).toBe(abi >= 5);
      });

      it('handles TCP, scopes and log flags exactly from their ABI on', () => {
        expect(rs.handledAccessNet).toBe(abi >= 4 ? AccessNet.BIND_TCP | AccessNet.CONNECT_TCP : 0);
        expect(rs.ports.length).toBe(abi >= 4 ? 3 : 0);
        expect(rs.scoped).toBe(abi >= 6 ? Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL : 0);
        expect(rs.restrictFlags).toBe(abi >= 7 ? RestrictSelf.LOG_NEW_EXEC_ON : 0);
      });
    });
  }

  it('gives passed devices read, write and ioctl, never the right to make or remove names', () => {
    const rules = buildLandlockRuleset(input(7, { passedDevices: [{ path: '/dev/fuse', isDirectory: false }, { path: '/dev/dri', isDirectory: true }] })).paths;
    const fuse = rules.find((r) => r.path === '/dev/fuse')!.access;
    const dri = rules.find((r) => r.path === '/dev/dri')!.access;
    expect(fuse).toBe(AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.IOCTL_DEV);
    expect(dri).toBe(AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.READ_DIR | AccessFs.IOCTL_DEV);
    // Before ABI 5 there is no ioctl right to grant (ioctl is not restricted then).
    expect(buildLandlockRuleset(input(4, { passedDevices: [{ path: '/dev/fuse', isDirectory: false }] })).paths.find((r) => r.path === '/dev/fuse')!.access).toBe(
      AccessFs.READ_FILE | AccessFs.WRITE_FILE,
    );
  });

  it('uses the v7 ruleset on a newer kernel', () => {
    const rs = buildLandlockRuleset(input(9));
    expect(rs.abi).toBe(7);
    expect(rs.handledAccessFs).toBe(0xffff);
  });

  it('refuses an ABI without Landlock', () => {
    expect(() => buildLandlockRuleset(input(0))).toThrow(RangeError);
  });

  it('grants device ioctl on the terminals and /dev/null only', () => {
    const withIoctl = buildLandlockRuleset(input(7))
      .paths.filter((p) => p.access & AccessFs.IOCTL_DEV)
      .map((p) => p.path);
    expect(withIoctl.sort()).toEqual(['/dev/null', '/dev/ptmx', '/dev/pts', '/dev/tty']);
  });

  it('restricts TCP connect to the proxy ports when there is no network namespace', () => {
    const rs = buildLandlockRuleset(input(4, { netns: false }));
    expect(rs.handledAccessNet).toBe(AccessNet.BIND_TCP | AccessNet.CONNECT_TCP);
    expect(rs.ports).toEqual([
      { port: 1080, access: AccessNet.CONNECT_TCP },
      { port: 3128, access: AccessNet.CONNECT_TCP },
    ]);
  });

  it('leaves TCP connect to the network namespace and still limits bind to the -p ports', () => {
    const rs = buildLandlockRuleset(input(4, { exposedPorts: [8080, 3000, 8080] }));
    expect(rs.handledAccessNet).toBe(AccessNet.BIND_TCP);
    expect(rs.ports).toEqual([
      { port: 3000, access: AccessNet.BIND_TCP },
      { port: 8080, access: AccessNet.BIND_TCP },
    ]);
  });

  it('does not handle bind when allowLocalBinding is set', () => {
    const policy = testPolicy({ network: { allowLocalBinding: true } });
    expect(buildLandlockRuleset(input(7, { policy, exposedPorts: [8080] }))).toMatchObject({ handledAccessNet: 0, ports: [] });
    const noNetns = buildLandlockRuleset(input(7, { policy, netns: false }));
    expect(noNetns.handledAccessNet).toBe(AccessNet.CONNECT_TCP);
  });

  it('leaves abstract Unix sockets unscoped when allowAllUnixSockets is set', () => {
    const policy = testPolicy({ network: { allowAllUnixSockets: true } });
    expect(buildLandlockRuleset(input(6, { policy })).scoped).toBe(Scope.SIGNAL);
  });

  it('merges a path listed twice into one rule', () => {
    const rs = buildLandlockRuleset(input(7, { writablePaths: [{ path: '/tmp', isDirectory: true }] }));
    expect(rs.paths.filter((p) => p.path === '/tmp')).toHaveLength(1);
  });
});

describe('fileOnly', () => {
  it('drops the directory-only rights', () => {
    expect(fileOnly(0xffff)).toBe(FILE_RIGHTS);
  });
});

describe('describeRuleset', () => {
  it('prints one line per rule, then ports, scopes and flags', () => {
    const lines = describeRuleset(buildLandlockRuleset(input(7, { netns: false, exposedPorts: [8080] })));
    expect(lines.slice(0, 3)).toEqual(['Allow read-execute: /', 'Allow read-write: /tmp', 'Allow read-write-ioctl: /dev/null']);
    expect(lines).toContain('Allow read-write: /home/user/.npmrc');
    expect(lines).toContain('Allow TCP connect: port 1080, 3128');
    expect(lines).toContain('Allow TCP bind: port 8080');
    expect(lines).toContain('Scope to the sandbox: abstract Unix sockets, signals');
    expect(lines.at(-1)).toBe('Log denials after execve (LOG_NEW_EXEC_ON)');
  });

  it('says when no port may be bound', () => {
    expect(describeRuleset(buildLandlockRuleset(input(4)))).toContain('Deny TCP bind: all ports');
  });
});

describe('missingFeatures', () => {
  const policy = testPolicy();

  it('needs nothing when the sandbox has a network namespace', () => {
    expect(missingFeatures({ abi: 1, netns: true, policy })).toEqual([]);
  });

  it('needs ABI v4 to keep TCP on the proxies without a network namespace', () => {
    expect(missingFeatures({ abi: 3, netns: false, policy })[0]).toMatch(/cannot restrict TCP .* \(needs ABI v4, kernel 6\.7\+\)/);
    expect(missingFeatures({ abi: 4, netns: false, policy })).toEqual([]);
  });

  it('needs ABI v6 to keep abstract sockets in when Unix sockets are allowed without a network namespace', () => {
    const unix = testPolicy({ network: { allowUnixSockets: ['/run/x.sock'] } });
    expect(missingFeatures({ abi: 5, netns: false, policy: unix })).toHaveLength(1);
    expect(missingFeatures({ abi: 6, netns: false, policy: unix })).toEqual([]);
  });
});
