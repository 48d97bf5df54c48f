/**
 * The caller's NODE_OPTIONS is for their projects, not for Fence: `fence` starts its own Node
 * without it (the launcher sets it aside, so the startup snapshot loads whatever V8 flags it
 * names, and no preload or debugger of the user's runs in Fence's process), and the sandboxed
 * command gets it as set. The command's exit status passes through, 14 (Node's code for a
 * refused snapshot) included, on the Node path and on the native fast path.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, USERS, workspace, writeSettings, type Workspace } from '../src/fence.js';
import { freePort } from '../src/ports.js';
import { EXPLAIN, HIT, NODE, warm } from '../src/plan-cache.js';

/** Prints ok and what the command sees, then exits 3. */
const SHOW = ['--', 'sh', '-c', 'echo ok; printf "%s\\n" "${NODE_OPTIONS-unset}"; exit 3'];

/** A preload that says where it runs: a Node command in the sandbox, never Fence itself. */
function preload(ws: Workspace): string {
  const file = join(ws.dir, 'preload.cjs');
  writeFileSync(file, 'console.error(`preload ran in ${process.argv.slice(1).join(" ") || "node -e"}`);\n');
  own(ws, file);
  return file;
}

/**
 * From inside the sandbox, through an allowed host port: asks the Node inspector there for its
 * target and has it write `file` (the inspector's command line API has require). Prints what it got.
 */
const inspectorAttack = (port: number, file: string) => `
const http = require('http');
http.get('http://127.0.0.1:${port}/json/list', (res) => {
  let body = '';
  res.on('data', (d) => (body += d)).on('end', () => {
    const ws = new WebSocket(JSON.parse(body)[0].webSocketDebuggerUrl);
    const expression = ${JSON.stringify(`require('fs').writeFileSync(${JSON.stringify(file)}, 'escaped')`)};
    ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, includeCommandLineAPI: true } }));
    ws.onmessage = (m) => { console.log('inspector answered', m.data); ws.close(); };
  });
}).on('error', (e) => console.log('no inspector:', e.code));
`;

describe.each(USERS)('NODE_OPTIONS (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  // Each changes the V8 flags or heap the snapshot was built with (Node exits 14), or runs
  // something of the user's in Fence's process, or is refused by Node itself (exit 9).
  it.each([
    ['a heap limit', '--max-old-space-size=100'],
    ['a young generation size', '--max-semi-space-size=64'],
    ['--expose-gc', '--expose-gc'],
    ['--abort-on-uncaught-exception', '--abort-on-uncaught-exception'],
    ['--enable-source-maps', '--enable-source-maps'],
    ['a debugger port', '--inspect=127.0.0.1:0'],
    ['--stack-size, which Node refuses in NODE_OPTIONS', '--stack-size=2000'],
    ['several options', '--max-old-space-size=4096 --enable-source-maps --no-warnings'],
  ])('runs the command with %s, silently, and the command sees it', async (_, options) => {
    ws = workspace(user);
    const plain = await fence(ws, SHOW, { env: NODE });
    const r = await fence(ws, SHOW, { env: { ...NODE, NODE_OPTIONS: options } });
    expect(r.stdout).toBe(`ok\n${options}\n`);
    expect(r.stderr).toBe(plain.stderr);
    expect(r.status).toBe(3);
    expect(plain.stdout).toBe('ok\nunset\n');
  });

  it("runs a --require preload in the sandboxed Node only, never in Fence's own process", async () => {
    ws = workspace(user);
    const options = `--require ${preload(ws)}`;
    const r = await fence(ws, ['--', 'node', '-e', 'console.log(process.env.NODE_OPTIONS)'], { env: { ...NODE, NODE_OPTIONS: options } });
    expect(r.stdout).toBe(`${options}\n`);
    expect(r.stderr).toBe('preload ran in node -e\n');
    expect(r.status).toBe(0);
  });

  it('gives the command NODE_EXTRA_CA_CERTS as well, the other variable set aside, and none of the copies', async () => {
    ws = workspace(user);
    const env = { ...NODE, NODE_OPTIONS: '--no-warnings', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
    const r = await fence(ws, ['--', 'sh', '-c', 'env | grep -E "^(FENCE_)?NODE_(OPTIONS|EXTRA_CA_CERTS)=" | sort'], { env });
    expect(r.stdout).toBe('NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\nNODE_OPTIONS=--no-warnings\n');
    expect(r.status).toBe(0);
  });

  it("opens no debugger on Fence's own process that the sandbox could reach (--inspect on an allowed host port)", async () => {
    ws = workspace(user);
    const port = await freePort();
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [port] } });
    const escaped = join(ws.home, 'escaped');
    const attack = ['--', 'env', '-u', 'NODE_OPTIONS', 'node', '--experimental-websocket', '--no-warnings', '-e', inspectorAttack(port, escaped)];
    const r = await fence(ws, attack, { env: { ...NODE, NODE_OPTIONS: `--inspect=127.0.0.1:${port}` } });
    expect(existsSync(escaped)).toBe(false);
    expect(r.stdout).toMatch(/^no inspector: ECONN(REFUSED|RESET)\n$/);
    expect(r.status).toBe(0);
  });

  it("opens no debugger on Fence's own process at a SIGUSR1 (Node's default: 127.0.0.1:9229) that the sandbox could reach", async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [9229] } });
    const escaped = join(ws.home, 'escaped');
    const attack = ['--', 'sh', '-c', 'echo ready; sleep 1; exec node --experimental-websocket --no-warnings -e "$0"', inspectorAttack(9229, escaped)];
    const r = await fence(ws, attack, {
      env: NODE,
      // setpriv and the launcher exec Node: the spawned pid is Fence's own process for both users.
      onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && process.kill(child.pid!, 'SIGUSR1')),
    });
    expect(existsSync(escaped)).toBe(false);
    expect(r.stdout).toMatch(/^ready\nno inspector: ECONN(REFUSED|RESET)\n$/);
    expect(r.status).toBe(0);
  });

  it("passes the command's own exit status 14 through, with and without NODE_OPTIONS", async () => {
    ws = workspace(user);
    const exit14 = ['--', 'sh', '-c', 'echo ran; exit 14'];
    for (const env of [NODE, { ...NODE, NODE_OPTIONS: '--max-old-space-size=100' }, { ...NODE, NODE_OPTIONS: '' }]) {
      const r = await fence(ws, exit14, { env });
      expect([r.stdout, r.status]).toEqual(['ran\n', 14]);
    }
  });

  it('gives the command NODE_OPTIONS on the fast path too, where a plan is keyed on it', async () => {
    ws = workspace(user);
    // The fast path takes no shell command line (the command policy reads those): a script.
    const script = join(ws.dir, 'show.sh');
    writeFileSync(script, '#!/bin/sh\necho "$NODE_OPTIONS"; exit "$1"\n', { mode: 0o755 });
    own(ws, script);
    const options = { NODE_OPTIONS: '--max-old-space-size=100' };
    for (const status of ['3', '14']) {
      await warm(ws, ['--', './show.sh', status], options);
      const hit = await fence(ws, ['--', './show.sh', status], { env: { ...EXPLAIN, ...options } });
      expect([hit.stdout, hit.stderr, hit.status]).toEqual(['--max-old-space-size=100\n', HIT, Number(status)]);
    }
    // A FENCE_NODE_OPTIONS of the caller's is the launcher's name, replaced there: neither path uses it.
    const stray = { FENCE_NODE_OPTIONS: '--stack-size=1' };
    const hit = await fence(ws, ['--', './show.sh', '3'], { env: { ...EXPLAIN, ...options, ...stray } });
    expect([hit.stdout, hit.stderr, hit.status]).toEqual(['--max-old-space-size=100\n', HIT, 3]);
    const node = await fence(ws, ['--', './show.sh', '3'], { env: { ...NODE, ...stray } });
    expect([node.stdout, node.status]).toEqual(['\n', 3]);
    // Another value is another environment: the run goes to Node, which gives the command that one.
    const other = await fence(ws, ['--', './show.sh', '3'], { env: { ...EXPLAIN, NODE_OPTIONS: '--expose-gc' } });
    expect([other.stdout, other.status]).toEqual(['--expose-gc\n', 3]);
    expect(other.stderr).toMatch(/^fence: fast path: (?!hit)/);
  });
});
