import { describe, expect, it } from 'vitest';
import { bindPaths, buildBwrapArgs, type BwrapInput, type BwrapLayout } from '../src/bwrap-args.js';

const HEAD = ['--new-session', '--die-with-parent', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
const BASE = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
/** Where the policy mounts start with netns and --disable-userns. */
const MOUNTS_AT = HEAD.length + 4 + BASE.length;

/** The layout with descriptors numbered from 10 in bindPaths order, as the effects would open them. */
const input = (over: Partial<BwrapLayout & Pick<BwrapInput, 'seccompFd'>> = {}): BwrapInput => {
  const layout: BwrapLayout = {
    netns: true,
    disableUserns: true,
    cwd: '/work/proj',
    allowWrite: [],
    denyRead: [],
    denyWrite: [],
    protect: { existing: [], missing: [] },
    ...over,
  };
  return { ...layout, seccompFd: over.seccompFd, bindFds: new Map(bindPaths(layout).map((b, i) => [b.path, 10 + i])) };
};

describe('buildBwrapArgs', () => {
  it('builds the default read-only sandbox with a network namespace', () => {
    expect(buildBwrapArgs(input())).toEqual([
      ...HEAD, '--unshare-net', '--cap-drop', 'ALL', '--disable-userns', ...BASE, '--chdir', '/work/proj',
    ]);
  });

  it('leaves out --unshare-net and --disable-userns when the machine cannot do them', () => {
    expect(buildBwrapArgs(input({ netns: false, disableUserns: false }))).toEqual([
      ...HEAD, '--cap-drop', 'ALL', ...BASE, '--chdir', '/work/proj',
    ]);
  });

  it("inside the network namespace fence-launch made, gives the command the caller's ids and leaves the namespace alone", () => {
    expect(buildBwrapArgs(input({ netns: false, ids: { uid: 65534, gid: 65534 } }))).toEqual([
      ...HEAD, '--uid', '65534', '--gid', '65534', '--cap-drop', 'ALL', '--disable-userns', ...BASE, '--chdir', '/work/proj',
    ]);
  });

  it('protects .git and .bashrc in a writable workspace and pins .git against rename', () => {
    const args = buildBwrapArgs(
      input({
        allowWrite: ['/work/proj'],
        protect: {
          existing: ['/work/proj/.git/hooks', '/work/proj/.git/config', '/work/proj/.bashrc'],
          missing: ['/work/proj/.mcp.json'],
        },
      }),
    );
    expect(args).toEqual([
      ...HEAD, '--unshare-net', '--cap-drop', 'ALL', '--disable-userns', ...BASE,
      '--bind-fd', '10', '/work/proj',
      '--ro-bind-fd', '11', '/work/proj/.bashrc',
      '--bind-fd', '12', '/work/proj/.git',
      '--ro-bind-fd', '13', '/work/proj/.mcp.json',
      '--ro-bind-fd', '14', '/work/proj/.git/config',
      '--ro-bind-fd', '15', '/work/proj/.git/hooks',
      '--chdir', '/work/proj',
    ]);
  });

  it('under read isolation hides a directory on the way whole and binds the readable roots inside it back, read-only (once: /usr is not hidden, /var/lib/x is inside /var/lib)', () => {
    const args = buildBwrapArgs(
      input({
        cwd: '/home/u/proj',
        allowWrite: ['/home/u/proj'],
        denyRead: [{ path: '/home', kind: 'dir' }, { path: '/home/u', kind: 'dir' }, { path: '/var', kind: 'dir' }, { path: '/opt', kind: 'dir' }],
        readable: ['/var/lib', '/usr', '/var/lib/x', '/home/u/proj'],
      }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--tmpfs', '/home',
      '--tmpfs', '/opt',
      '--tmpfs', '/var',
      '--ro-bind-fd', '10', '/var/lib',
      '--bind-fd', '11', '/home/u/proj',
      '--remount-ro', '/home',
      '--remount-ro', '/opt',
      '--remount-ro', '/var',
      '--chdir', '/home/u/proj',
    ]);
  });

  it('hides denyRead directories with a tmpfs sealed after the mounts inside it', () => {
    const args = buildBwrapArgs(
      input({
        cwd: '/home/u/proj',
        allowWrite: ['/home/u/proj'],
        denyRead: [
          { path: '/home/u', kind: 'dir' },
          { path: '/home/u/proj/.env', kind: 'file' },
        ],
      }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--tmpfs', '/home/u',
      '--bind-fd', '10', '/home/u/proj',
      '--ro-bind', '/dev/null', '/home/u/proj/.env',
      '--remount-ro', '/home/u',
      '--chdir', '/home/u/proj',
    ]);
  });

  it('lets denyWrite win over allowWrite, at the same path and above it', () => {
    const args = buildBwrapArgs(
      input({
        allowWrite: ['/work/proj', '/work/proj/vendor/cache', '/work/proj/conf'],
        denyWrite: ['/work/proj/vendor', '/work/proj/conf', '/etc'],
      }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--bind-fd', '10', '/work/proj',
      '--ro-bind-fd', '11', '/work/proj/conf',
      '--ro-bind-fd', '12', '/work/proj/vendor',
      '--chdir', '/work/proj',
    ]);
  });

  it('keeps a working directory under /tmp, read-only unless allowWrite covers it', () => {
    expect(buildBwrapArgs(input({ cwd: '/tmp/w' })).slice(-5)).toEqual(['--ro-bind-fd', '10', '/tmp/w', '--chdir', '/tmp/w']);
    expect(buildBwrapArgs(input({ cwd: '/tmp/w/sub', allowWrite: ['/tmp/w'] })).slice(-5)).toEqual([
      '--bind-fd', '10', '/tmp/w', '--chdir', '/tmp/w/sub',
    ]);
  });

  it('shows the repository of a working directory under /tmp read-only, the working directory as the policy says', () => {
    expect(buildBwrapArgs(input({ cwd: '/tmp/repo/sub', tmpProject: '/tmp/repo' })).slice(MOUNTS_AT)).toEqual([
      '--ro-bind-fd', '10', '/tmp/repo', '--chdir', '/tmp/repo/sub',
    ]);
    expect(buildBwrapArgs(input({ cwd: '/tmp/repo/sub', tmpProject: '/tmp/repo', allowWrite: ['/tmp/repo/sub'] })).slice(MOUNTS_AT)).toEqual([
      '--ro-bind-fd', '10', '/tmp/repo', '--bind-fd', '11', '/tmp/repo/sub', '--chdir', '/tmp/repo/sub',
    ]);
  });

  it('keeps a repository under /tmp hidden when denyRead covers it', () => {
    const denyRead = [{ path: '/tmp/box', kind: 'dir' as const }];
    expect(buildBwrapArgs(input({ cwd: '/tmp/box/repo/sub', tmpProject: '/tmp/box/repo', denyRead })).slice(MOUNTS_AT)).toEqual([
      '--ro-bind-fd', '10', '/tmp/box/repo/sub', '--chdir', '/tmp/box/repo/sub',
    ]);
  });

  it('keeps the private /tmp when the working directory is /tmp itself', () => {
    expect(buildBwrapArgs(input({ cwd: '/tmp' })).slice(MOUNTS_AT)).toEqual(['--chdir', '/tmp']);
  });

  it('skips rules for paths the sandbox cannot see or write anyway', () => {
    const args = buildBwrapArgs(
      input({
        denyRead: [
          { path: '/tmp/hostsecret', kind: 'file' },
          { path: '/home/u', kind: 'dir' },
          { path: '/home/u/.ssh', kind: 'dir' },
        ],
        protect: { existing: ['/home/u/.bashrc', '/work/proj/.git/hooks'], missing: [] },
      }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--tmpfs', '/home/u', '--remount-ro', '/home/u', '--chdir', '/work/proj',
    ]);
  });

  it('shows the helper, and passes the seccomp descriptor', () => {
    const args = buildBwrapArgs(input({ helper: '/tmp/pkg/fence-launch', seccompFd: 5 }));
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--ro-bind-fd', '10', '/tmp/pkg/fence-launch',
      '--seccomp', '5',
      '--chdir', '/work/proj',
    ]);
  });

  it('protects ~/.bashrc even when $HOME is writable', () => {
    const args = buildBwrapArgs(
      input({ allowWrite: ['/home/u'], protect: { existing: ['/home/u/.bashrc'], missing: ['/home/u/.zshrc'] } }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--bind-fd', '10', '/home/u',
      '--ro-bind-fd', '11', '/home/u/.bashrc',
      '--ro-bind-fd', '12', '/home/u/.zshrc',
      '--chdir', '/work/proj',
    ]);
  });

  it('pins a git directory the creation guard protects, and every directory above it up to the writable root', () => {
    const args = buildBwrapArgs(input({ allowWrite: ['/work/proj'], protect: { existing: [], missing: [], pinned: ['/work/proj/sub/r/.git'] } }));
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--bind-fd', '10', '/work/proj',
      '--bind-fd', '11', '/work/proj/sub',
      '--bind-fd', '12', '/work/proj/sub/r',
      '--bind-fd', '13', '/work/proj/sub/r/.git',
      '--chdir', '/work/proj',
    ]);
  });

  it('binds nothing by name but / and /dev/null, and refuses a bound path without a descriptor', () => {
    const layout = input({ allowWrite: ['/work/proj'], denyRead: [{ path: '/work/proj/.env', kind: 'file' }], protect: { existing: ['/work/proj/.git/hooks'], missing: [] } });
    const args = buildBwrapArgs(layout);
    const byName = args.flatMap((a, i) => (a === '--bind' || a === '--ro-bind' ? [args[i + 1]] : []));
    expect(byName).toEqual(['/', '/dev/null']);
    expect(() => buildBwrapArgs({ ...layout, bindFds: new Map() })).toThrow('bwrap args: no descriptor for /work/proj');
  });
});

describe('data files', () => {
  it('shows a data file over the read-only directory holding it, from its own descriptor, and binds nothing for it', () => {
    const layout = input({ allowWrite: ['/work/proj'], protect: { existing: ['/work/proj/.git/info'], missing: [] }, data: ['/work/proj/.git/info/exclude'] });
    const args = buildBwrapArgs({ ...layout, dataFds: new Map([['/work/proj/.git/info/exclude', 20]]) });
    expect(args.slice(MOUNTS_AT, -2)).toEqual([
      '--bind-fd', '10', '/work/proj',
      '--bind-fd', '11', '/work/proj/.git',
      '--ro-bind-fd', '12', '/work/proj/.git/info',
      '--ro-bind-data', '20', '/work/proj/.git/info/exclude',
    ]);
    expect(bindPaths(layout).map((b) => b.path)).not.toContain('/work/proj/.git/info/exclude');
  });
});

describe('bindPaths', () => {
  it('lists each bound path once, in mount order, with the kind the layout implies', () => {
    expect(
      bindPaths(input({ allowWrite: ['/work/proj', '/work/proj'], protect: { existing: ['/work/proj/.git/hooks'], missing: ['/work/proj/.mcp.json'] } })),
    ).toEqual([
      { path: '/work/proj' },
      { path: '/work/proj/.git', kind: 'dir' },
      { path: '/work/proj/.mcp.json', kind: 'file' },
      { path: '/work/proj/.git/hooks' },
    ]);
  });
});

describe('buildBwrapArgs: devices', () => {
  const dev = (args: string[]): string[] => args.slice(HEAD.length + 4 + 3, args.indexOf('--proc'));

  it('binds each passed device node with device access, and makes its links again, on bwrap\'s own /dev', () => {
    const devices = { host: false, nodes: ['/dev/fuse', '/dev/dri/card0'], links: [{ path: '/dev/dri/by-path/pci-card', target: '../card0' }] };
    expect(dev(buildBwrapArgs(input({ devices })))).toEqual([
      '--dev', '/dev',
      '--dev-bind', '/dev/fuse', '/dev/fuse',
      '--dev-bind', '/dev/dri/card0', '/dev/dri/card0',
      '--symlink', '../card0', '/dev/dri/by-path/pci-card',
    ]);
  });

  it('shows the host\'s whole /dev in host mode', () => {
    expect(dev(buildBwrapArgs(input({ devices: { host: true, nodes: [], links: [] } })))).toEqual(['--dev-bind', '/dev', '/dev']);
  });
});
