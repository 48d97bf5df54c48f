import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fence, own, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

const HOST_REPLY = 'HOST-SOCKET-REACHED';

/** A host Unix socket the sandbox must never reach (a stand-in for docker.sock), reachable by every uid. */
async function hostSocket(): Promise<{ path: string; reached: () => boolean; close: () => void }> {
  const dir = mkdtempSync('/var/tmp/fence-e2e-hostsock-');
  chmodSync(dir, 0o777);
  const path = join(dir, 'host.sock');
  let reached = false;
  const server: Server = createServer((s) => {
    reached = true;
    s.on('error', () => undefined).end(`${HOST_REPLY}\n`);
  });
  await new Promise<void>((r) => server.listen(path, r));
  chmodSync(path, 0o777);
  return { path, reached: () => reached, close: () => (server.close(), rmSync(dir, { recursive: true, force: true })) };
}

/**
 * What an attacker inside tries on every socket of Fence's it can find: replace it with a link to
 * the host socket (the runtime directory used to be bound writable at its host path).
 */
const swapSockets = (target: string) =>
  `for s in $(find /tmp /run /var/tmp -name '*.sock' 2>/dev/null); do rm -f "$s" && ln -s ${target} "$s" && echo "swapped $s"; done`;

describe.each(USERS)("Fence's own relays cannot be turned against the host (as %s)", (user) => {
  let ws: Workspace;
  let host: Awaited<ReturnType<typeof hostSocket>>;
  beforeEach(async () => {
    host = await hostSocket();
  });
  afterEach(() => {
    host.close();
    ws.cleanup();
  });

  it('a replaced http.sock or socks.sock never redirects the proxy bridges to a host socket', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const attack = [
      swapSockets(host.path),
      `for port in 3128 1080; do (exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 2 cat <&3); done`,
    ].join('; ');
    const r = await fence(ws, ['-c', attack]);
    expect(r.stdout).not.toContain(HOST_REPLY);
    expect(host.reached()).toBe(false);
  });

  it('…also when the runtime directory lies under a writable path (allowWrite /tmp, or TMPDIR in the workspace)', async () => {
    ws = workspace(user);
    const attack = [
      swapSockets(host.path),
      `for port in 3128 1080; do (exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 2 cat <&3); done`,
    ].join('; ');
    writeSettings(ws, { network: { allowedDomains: ['example.com'] }, filesystem: { allowWrite: ['/tmp'] } });
    const underTmp = await fence(ws, ['-c', attack]);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] }, filesystem: { allowWrite: ['.'] } });
    const tmpdir = join(ws.dir, 'tmpd');
    mkdirSync(tmpdir);
    own(ws, tmpdir);
    const underWorkspace = await fence(ws, ['-c', attack.replaceAll('/tmp /run', `${tmpdir} /tmp /run`)], { env: { TMPDIR: tmpdir } });
    expect(underTmp.stdout + underWorkspace.stdout).not.toContain(HOST_REPLY);
    expect(host.reached()).toBe(false);
  });

  it('a replaced out-N.sock (allowLocalOutboundPorts) never redirects the bridge to a host socket', async () => {
    ws = workspace(user);
    const port = 20000 + ((process.pid * 11 + (user === 'root' ? 0 : 1)) % 20000);
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [port] } });
    const r = await fence(ws, ['-c', `${swapSockets(host.path)}; (exec 3<>/dev/tcp/127.0.0.1/${port} && timeout 2 cat <&3); true`]);
    expect(r.stdout).not.toContain(HOST_REPLY);
    expect(host.reached()).toBe(false);
  });

  it('the host sockets the guard keeps for the relay it starts later are out of the command\'s reach (/proc/1/fd, pidfd_getfd, the guard\'s own opens)', async () => {
    ws = workspace(user);
    // Unix sockets allowed, so that a reachable descriptor of the guard's would connect. (Root
    // inside may list /proc/1/fd: which numbers are open is all it learns.)
    writeSettings(ws, { network: { allowedDomains: ['example.com'], allowAllUnixSockets: true } });
    const attack = `
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
seen = set()
def attempt(what, fn):
    try:
        fn()
        seen.add(what + " worked")
    except OSError as e:
        seen.add(what + " " + errno.errorcode.get(e.errno, str(e.errno)))
def connect(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
    finally:
        s.close()
def getfd(n):
    if libc.syscall(438, pidfd, n, 0) < 0:
        raise OSError(ctypes.get_errno(), "pidfd_getfd")
pidfd = os.pidfd_open(1)
for n in range(3, 40):
    attempt("connect", lambda: connect("/proc/1/fd/%d" % n))
    attempt("open", lambda: os.close(os.open("/proc/1/fd/%d" % n, os.O_PATH)))
    attempt("create", lambda: os.close(os.open("/proc/1/fd/%d/x" % n, os.O_CREAT | os.O_WRONLY)))
    attempt("getfd", lambda: getfd(n))
print(" / ".join(sorted(seen)))`;
    const r = await fence(ws, ['--', 'python3', '-c', attack]);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/worked/);
    expect(r.stdout).toMatch(/connect E/);
    expect(r.stdout).toMatch(/getfd E/);
    expect(host.reached()).toBe(false);
  });

  it('-p cannot take the sandbox\'s own proxy port', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-p', '3128', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("fence: -p: port 3128 is the sandbox's proxy port (network.httpProxyPort/socksProxyPort); choose another port\n");
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const capture = await fence(ws, ['-p', '15001', '--', 'true']);
    expect(capture.status).toBe(1);
    expect(capture.stderr).toBe("fence: -p: port 15001 is the sandbox's capture listener (connections of programs that ignore the proxy variables); choose another port\n");
  });

  it('the runtime directory is not in the sandbox: no socket of Fence is visible, nothing of it is writable', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'], allowLocalOutbound: true, allowLocalOutboundPorts: [5432] } });
    // The workspace itself is under /tmp/fence-e2e-*; the session's runtime directory is /tmp/fence-XXXXXX.
    const r = await fence(ws, ['-c', "find /tmp /run /var/tmp \\( -name http.sock -o -name socks.sock -o -name 'in-*.sock' -o -name 'out-*.sock' \\) 2>/dev/null; ls -d /tmp/fence-* 2>/dev/null | grep -v /tmp/fence-e2e-; echo done"]);
    expect(r.stdout).toBe('done\n');
  });

  it('has no writable host storage but allowWrite: every writable mount inside is a private one or an allowWrite path', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] }, filesystem: { allowWrite: ['.'] } });
    // mountinfo: mount point (5th field), options (6th), then after " - ": fs type and source.
    const r = await fence(ws, ['-c', `awk '{ split($0, p, " - "); split(p[2], t, " "); if ($6 ~ /^rw/) print $5, t[1] }' /proc/self/mountinfo`]);
    const writable = r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]);
    // Private to the sandbox: its tmpfs, proc, devpts; the device nodes bwrap binds into /dev store nothing.
    const privateTypes = new Set(['tmpfs', 'proc', 'devpts', 'mqueue']);
    const isPrivate = ([mount, type]: [string, string]) => privateTypes.has(type) || (type === 'devtmpfs' && mount.startsWith('/dev/'));
    const host = writable.filter((m) => !isPrivate(m)).map(([mount]) => mount);
    expect(host).toEqual([ws.dir]);
  });

  it('-p: a replaced in-N.sock never redirects host clients of 127.0.0.1:N to a host socket', async () => {
    ws = workspace(user);
    const port = 20000 + ((process.pid * 7 + (user === 'root' ? 0 : 1)) % 20000);
    const attack = `${swapSockets(host.path)}; echo ready; sleep 3`;
    let reply = '';
    const r = await fence(ws, ['-p', String(port), '-c', attack], {
      onSpawn: (child) =>
        child.stdout?.on('data', (d: Buffer) => {
          if (!d.toString().includes('ready')) return;
          const c = connect({ host: '127.0.0.1', port });
          c.on('data', (b) => (reply += b.toString())).on('error', () => undefined);
          c.end('GET / HTTP/1.0\r\n\r\n');
        }),
    });
    expect(r.stdout).toContain('ready');
    expect(reply).not.toContain(HOST_REPLY);
    expect(host.reached()).toBe(false);
  });

  it('cleanup cannot be blocked from inside: the runtime directory is gone after the run', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const before = new Set(readdirSync('/tmp').filter((n) => n.startsWith('fence-')));
    // What used to work through the writable runtime directory: a subdirectory nobody can enter.
    const r = await fence(ws, ['-d', '-c', 'for d in /tmp/fence-*/; do mkdir -p "$d/x/y" && chmod 000 "$d/x"; done; true']);
    const runtimeDir = /(\/\S+\/fence-[^/\s]+)\/http\.sock/.exec(r.stderr)?.[1];
    expect(runtimeDir).toBeDefined();
    expect(r.status).toBe(0);
    expect(existsSync(runtimeDir!)).toBe(false);
    expect(readdirSync('/tmp').filter((n) => n.startsWith('fence-') && !before.has(n) && n === runtimeDir!.split('/').pop())).toEqual([]);
  });
});
