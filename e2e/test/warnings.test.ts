import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';
import { udpServer } from '../src/servers.js';

// As in degraded.test.ts: Fence behaves as on a machine where the native helper was not built.
const NO_HELPER = { FENCE_LAUNCH_PATH: '' };

const LANDLOCK_OFF =
  "fence: warning: landlock: off (no native helper: build @fence/native (needs a C compiler)): writes are confined by bwrap's mounts alone, with no second check in the kernel\n";
const HELPER_MISSING = 'fence: warning: helper: missing (build @fence/native, needs a C compiler): bwrap installs seccomp, nothing inside reaches the proxies, and protected names that do not exist yet are read-only placeholder files in your tree while the command runs (git status shows them)\n';
const NO_NETNS =
  'fence: warning: bwrap: no network namespace: UDP is not filtered (Landlock limits TCP connect to the proxy ports); run with CAP_NET_ADMIN (docker --cap-add=NET_ADMIN) or as root\n';

/**
 * A bwrap that cannot create a network namespace, as in a container without CAP_NET_ADMIN: the
 * detection probe (`--unshare-net` in argv) fails the way the real one does there; every other
 * call is the real bwrap. It goes first on PATH, in a directory the user can read.
 */
function bwrapWithoutNetns(ws: Workspace): Record<string, string> {
  const bin = join(dirname(ws.dir), 'bin');
  const script = `#!/bin/sh
case " $* " in *" --unshare-net "*) echo 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted' >&2; exit 1;; esac
exec /usr/bin/bwrap "$@"
`;
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'bwrap'), script, { mode: 0o755 });
  return { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
}

describe.each(USERS)('warnings for degraded layers (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('prints nothing when every layer is available', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'true']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('prints one line per degraded layer without the native helper, on every run', async () => {
    ws = workspace(user);
    writeSettings(ws, { limits: { memoryMB: 512 } });
    const r = await fence(ws, ['--', 'true'], { env: NO_HELPER });
    // As root the memory limit holds through a cgroup; as another user it needed the helper's rlimit.
    const limits =
      user === 'root'
        ? ''
        : 'fence: warning: limits: limits.memoryMB is not enforced at all (no usable cgroup, and no native helper to set an rlimit); run as root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes fence …)\n';
    expect(r.stderr).toBe(`${LANDLOCK_OFF}${limits}${HELPER_MISSING}`);
    expect(r.status).toBe(0);
  });

  it('gives each warning as a JSON event with --json, so stderr stays machine-readable', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-m', '--json', '--', 'true'], { env: NO_HELPER });
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { source: string; action: string; reason: string });
    expect(events).toContainEqual(expect.objectContaining({ source: 'fence', action: 'warning', reason: expect.stringMatching(/^helper: missing \(build @fence\/native.*nothing inside reaches the proxies/) }));
  });

  it('warns that UDP is not filtered without a network namespace, and it is not', async () => {
    ws = workspace(user);
    const udp = await udpServer();
    try {
      const send = `echo x > /dev/udp/127.0.0.1/${udp.port}`;
      const r = await fence(ws, ['-c', send], { env: bwrapWithoutNetns(ws) });
      expect(r.stderr).toBe(NO_NETNS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(udp.received()).toBe(1);
    } finally {
      udp.close();
    }
  });

  it('runs without the capture when there is no network namespace: no DNS stub, the host resolver as before', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const r = await fence(ws, ['-c', 'cat /etc/resolv.conf'], { env: bwrapWithoutNetns(ws) });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(NO_NETNS);
    expect(r.stdout).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
  });

  it('refuses to run without a network namespace under --strict', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--strict', '--', 'true'], { env: bwrapWithoutNetns(ws) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: --strict: the bwrap layer is unavailable: no network namespace/);
  });
});
