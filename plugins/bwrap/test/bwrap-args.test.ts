import { describe, expect, it } from 'vitest';
import { buildBwrapArgs, type BwrapInput } from '../src/bwrap-args.js';

const HEAD = ['--new-session', '--die-with-parent', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
const BASE = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
/** Where the policy mounts start with netns and --disable-userns. */
const MOUNTS_AT = HEAD.length + 4 + BASE.length;

const input = (over: Partial<BwrapInput> = {}): BwrapInput => ({
  netns: true,
  disableUserns: true,
  cwd: '/work/proj',
  allowWrite: [],
  denyRead: [],
  denyWrite: [],
  protect: { existing: [], missing: [] },
  ...over,
});

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
      '--bind', '/work/proj', '/work/proj',
      '--ro-bind', '/work/proj/.bashrc', '/work/proj/.bashrc',
      '--bind', '/work/proj/.git', '/work/proj/.git',
      '--ro-bind', '/dev/null', '/work/proj/.mcp.json',
      '--ro-bind', '/work/proj/.git/config', '/work/proj/.git/config',
      '--ro-bind', '/work/proj/.git/hooks', '/work/proj/.git/hooks',
      '--chdir', '/work/proj',
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
      '--bind', '/home/u/proj', '/home/u/proj',
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
      '--bind', '/work/proj', '/work/proj',
      '--ro-bind', '/work/proj/conf', '/work/proj/conf',
      '--ro-bind', '/work/proj/vendor', '/work/proj/vendor',
      '--chdir', '/work/proj',
    ]);
  });

  it('keeps a working directory under /tmp, read-only unless allowWrite covers it', () => {
    expect(buildBwrapArgs(input({ cwd: '/tmp/w' })).slice(-5)).toEqual(['--ro-bind', '/tmp/w', '/tmp/w', '--chdir', '/tmp/w']);
    expect(buildBwrapArgs(input({ cwd: '/tmp/w/sub', allowWrite: ['/tmp/w'] })).slice(-5)).toEqual([
      '--bind', '/tmp/w', '/tmp/w', '--chdir', '/tmp/w/sub',
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
      '--ro-bind', '/tmp/pkg/fence-launch', '/tmp/pkg/fence-launch',
      '--seccomp', '5',
      '--chdir', '/work/proj',
    ]);
  });

  it('protects ~/.bashrc even when $HOME is writable', () => {
    const args = buildBwrapArgs(
      input({ allowWrite: ['/home/u'], protect: { existing: ['/home/u/.bashrc'], missing: ['/home/u/.zshrc'] } }),
    );
    expect(args.slice(MOUNTS_AT)).toEqual([
      '--bind', '/home/u', '/home/u',
      '--ro-bind', '/home/u/.bashrc', '/home/u/.bashrc',
      '--ro-bind', '/dev/null', '/home/u/.zshrc',
      '--chdir', '/work/proj',
    ]);
  });
});
