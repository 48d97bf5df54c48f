import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, USERS, workspace, type Workspace } from '../src/fence.js';

/** Whether the host itself reaches `url` (the test is about Fence, not about this machine's network). */
function hostReaches(url: string): boolean {
  const probe = `fetch(${JSON.stringify(url)}, { method: 'HEAD', signal: AbortSignal.timeout(8000) }).then(() => process.exit(0), () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

const npmRegistry = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim() || 'https://registry.npmjs.org/';
const npmReachable = hostReaches(npmRegistry);
if (!npmReachable) console.warn(`registries: npm-install test SKIPPED: this host cannot reach its npm registry ${npmRegistry}`);
const pipIndex = 'https://pypi.org/simple/';
const pipReachable = hostReaches(pipIndex);
if (!pipReachable) console.warn(`registries: pip-install test SKIPPED: this host cannot reach ${pipIndex}`);

// The CA bundle some networks need for TLS (an inspecting proxy), passed as the user's shell would.
const caEnv: Record<string, string> = process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {};

describe.each(USERS)('the install templates against the registries this machine uses (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it.runIf(npmReachable)('npm-install: npm install left-pad succeeds through the proxies', async () => {
    ws = workspace(user);
    const pkg = join(ws.dir, 'package.json');
    writeFileSync(pkg, '{"name":"t","version":"1.0.0"}');
    own(ws, pkg);
    const r = await fence(ws, ['-t', 'npm-install', '--', 'npm', 'install', '--no-audit', '--no-fund', 'left-pad'], { env: caEnv, timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/403|EAI_AGAIN/);
    expect(r.status).toBe(0);
    expect(existsSync(join(ws.dir, 'node_modules/left-pad/package.json'))).toBe(true);
  }, 130_000);

  it.runIf(pipReachable)('pip-install: pip download succeeds through the proxies', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-t', 'pip-install', '--', 'python3', '-m', 'pip', 'download', '--no-deps', '-d', 'wheels', 'six'], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
  }, 130_000);

  it('the default policy refuses at once, saying why: a 403 naming the reason, not a DNS failure', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-c', 'curl -sS https://example.com; curl -sS -w "%{http_code}" http://example.com/x']);
    expect(r.stderr).toMatch(/CONNECT tunnel failed, response 403/);
    expect(r.stdout).toBe('Connection blocked by network allowlist: not in network.allowedDomains (this policy allows no domain)\n403');
  });

  it("the README's example: `curl -sI` sees the reason in the refusal's head", async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-c', 'curl -sI https://example.com']);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(r.stdout).toContain('X-Fence-Reason: Connection blocked by network allowlist: not in network.allowedDomains (this policy allows no domain)\r\n');
  });

  it('the default policy ends its refusal with EOF at once, also for a client that only reads', async () => {
    ws = workspace(user);
    // Connects to each proxy port, sends nothing and reads to EOF (5 s at most).
    const read = 'import socket, sys\nfor port in (3128, 1080):\n  s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5); got = b""\n  try:\n    while (chunk := s.recv(4096)): got += chunk\n    print(port, "eof", len(got))\n  except socket.timeout:\n    print(port, "no eof", len(got))';
    const r = await fence(ws, ['--', 'python3', '-c', read]);
    expect(r.stdout).toMatch(/^3128 eof \d+\n1080 eof 12\n$/);
  });

  it('the default policy refuses SOCKS5 at once: connection not allowed by ruleset', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-c', 'curl -sS --proxy "$ALL_PROXY" http://example.com/']);
    // curl names SOCKS5 reply 2 ("connection not allowed by ruleset") by its number.
    expect(r.status).toBe(97);
    expect(r.stderr).toMatch(/Can't complete SOCKS5 connection to example\.com\. \(2\)/);
  });
});
