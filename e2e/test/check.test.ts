import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';
import { freePort } from '../src/ports.js';

const CHECK_TIMEOUT = { timeoutMs: 90_000 };
const slow = { timeout: 120_000 };

/** A line of the report: the attack's name after its verdict. */
const line = (verdict: string, name: string) => new RegExp(`^  ${verdict}: ${name.replace(/[()]/g, '\\$&')}( \\(|$)`, 'm');

/**
 * Attacks Fence's HTTP relay by hand (issue 9, finding 1), independently of `fence check`: swap
 * http.sock for a link to a host socket, then use the relay. True when the host socket was reached.
 */
async function relaySwapReachesHost(ws: Workspace): Promise<boolean> {
  const dir = mkdtempSync('/var/tmp/fence-e2e-relay-');
  const sock = join(dir, 'host.sock');
  let reached = false;
  const server = createServer((s) => {
    reached = true;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(sock, r));
  // The sandbox runs as the workspace's user, who must be able to connect.
  chmodSync(dir, 0o755);
  chmodSync(sock, 0o777);
  const swap = `D=$(dirname "$(ls -d /tmp/fence-*/http.sock)"); rm -f $D/http.sock && ln -s ${sock} $D/http.sock; exec 3<>/dev/tcp/127.0.0.1/3128; timeout 3 head -n 1 <&3`;
  await fence(ws, ['-c', swap]);
  await new Promise((r) => setTimeout(r, 100));
  server.close();
  rmSync(dir, { recursive: true, force: true });
  return reached;
}

describe.each(USERS)('fence check (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('attacks every layer and policy section and reports each attack stopped', slow, async () => {
    ws = workspace(user);
    const secret = join(ws.dir, 'secret.txt');
    writeFileSync(secret, 'the secret\n');
    own(ws, secret);
    writeSettings(ws, { filesystem: { denyRead: ['secret.txt'] } });
    // A credential variable in Fence's environment, for the attack that looks for it inside.
    const r = await fence(ws, ['check'], { ...CHECK_TIMEOUT, env: { GITHUB_TOKEN: 'fence-e2e-token' } });
    for (const name of [
      'write outside the allowed paths',
      'write in the working directory',
      'create a protected file in the working directory',
      'read a denyRead path',
      'read a credential variable',
      'run a denied program from a script',
      'signal a host process',
      'create a user namespace',
      'ptrace (PTRACE_TRACEME)',
      'io_uring_setup',
      'inject terminal input (TIOCSTI)',
      'mount a filesystem',
      'reach a host service directly',
      'send UDP to a host service directly',
      'connect to a host Unix socket',
    ]) {
      expect(r.stdout).toMatch(line('✓ stopped', name));
    }
    // The default policy allows no domain: no proxy and no relay runs, and the report says so.
    expect(r.stdout).toMatch(line('○ not tested', 'CONNECT to a refused destination through the HTTP proxy'));
    expect(r.stdout).toContain("○ not tested: redirect Fence's http relay to a host socket (replace http.sock) (no http proxy runs in this sandbox: the policy allows no domain)");
    expect(r.stdout).toContain("○ not tested: redirect Fence's host loopback relays to a host socket (replace out-<port>.sock) (no host loopback port is listed (network.allowLocalOutboundPorts))");
    expect(r.stdout).toMatch(/^fence check: every attack tested was stopped \(15 stopped, 0 allowed by the policy, 7 not tested\)$/m);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reports a write the policy allows as allowed, never as an escape', slow, async () => {
    ws = workspace(user);
    writeSettings(ws, { filesystem: { allowWrite: ['.', '/var/tmp'] }, network: { allowAllUnixSockets: true } });
    const r = await fence(ws, ['check'], CHECK_TIMEOUT);
    expect(r.stdout).toContain(`  = allowed by the policy: write in the working directory (filesystem.allowWrite has "${ws.dir}")`);
    expect(r.stdout).toContain('  = allowed by the policy: write outside the allowed paths (filesystem.allowWrite has "/var/tmp")');
    expect(r.stdout).toContain('  = allowed by the policy: connect to a host Unix socket (network.allowAllUnixSockets is set)');
    // A writable working directory still has its protected names.
    expect(r.stdout).toMatch(line('✓ stopped', 'create a protected file in the working directory'));
    expect(r.stdout).not.toContain('NOT stopped');
    expect(r.status).toBe(0);
  });

  it("tells the truth about Fence's own relays and the proxies when a domain is allowed", slow, async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const escapes = await relaySwapReachesHost(ws);
    const r = await fence(ws, ['check'], CHECK_TIMEOUT);
    expect(r.stdout).toMatch(line('✓ stopped', 'CONNECT to a refused destination through the HTTP proxy'));
    expect(r.stdout).toMatch(line('✓ stopped', 'CONNECT to a refused destination through the SOCKS5 proxy'));
    // Whatever today's code does, the report must agree with the attack made by hand above.
    expect(r.stdout).toMatch(line(escapes ? '✗ NOT stopped' : '✓ stopped', "redirect Fence's http relay to a host socket (replace http.sock)"));
    if (escapes) {
      expect(r.stdout).toMatch(/^fence check: \d+ attack\(s\) NOT stopped/m);
      expect(r.status).toBe(1);
    }
  });

  it('attacks the -p forwarder and exits 1 exactly when something got through', slow, async () => {
    ws = workspace(user);
    const port = await freePort();
    const r = await fence(ws, ['-p', String(port), 'check'], CHECK_TIMEOUT);
    expect(r.stdout).toMatch(/^  (✓ stopped|✗ NOT stopped): redirect Fence's -p forwarder to a host socket/m);
    expect(r.status).toBe(r.stdout.includes('✗ NOT stopped') ? 1 : 0);
  });
});
