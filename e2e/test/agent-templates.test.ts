/** The `code` template and `fence import --claude` through the real `fence`. */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fence, hasProgram, own, USERS, workspace, writeSettings, type Workspace } from '../src/fence.js';
import { httpServer } from '../src/servers.js';

let server: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  server = await httpServer();
});
afterAll(() => server.close());

// localhost is in NO_PROXY inside the sandbox: `--noproxy ''` makes curl use the proxy anyway.
const curl = (url: string) => `curl -sS --noproxy '' -w ' %{http_code}\\n' ${url}`;

describe.runIf(hasProgram('curl')).each(USERS)('the code template (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('refuses a domain it does not list, and the host\'s loopback, each with its reason', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['-t', 'code', '-c', `${curl('http://example.com/')}; ${curl(`http://localhost:${server.port}/`)}; curl -sS --max-time 5 http://127.0.0.1:${server.port}/ || echo direct refused`]);
    expect(r.stdout).toBe(
      [
        'Connection blocked by network allowlist: not in network.allowedDomains',
        ' 403',
        'Connection blocked by network allowlist: not in network.allowedDomains',
        ' 403',
        'direct refused',
        '',
      ].join('\n'),
    );
    // A home without the agents' state directories: nothing to warn about.
    expect(r.stderr).not.toMatch(/warning/);
  });

  it('keeps the agents\' permissions and hooks read-only, in the project and in $HOME, also where they do not exist yet', async () => {
    ws = workspace(user);
    for (const dir of [join(ws.dir, '.claude'), join(ws.home, '.claude')]) {
      mkdirSync(dir);
      own(ws, dir);
    }
    writeFileSync(join(ws.home, '.claude/settings.json'), '{}\n');
    own(ws, join(ws.home, '.claude/settings.json'));
    const r = await fence(ws, ['-t', 'code', '-c', `echo '{"disableAllHooks":true}' > .claude/settings.local.json; echo '{}' > ~/.claude/settings.json; echo x > ~/.claude/state.json; echo done`], {
      env: { HOME: ws.home },
    });
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).toMatch(/settings\.local\.json: Read-only file system/);
    expect(r.stderr).toMatch(/\.claude\/settings\.json: Read-only file system/);
    expect(existsSync(join(ws.dir, '.claude/settings.local.json'))).toBe(false);
    expect(readFileSync(join(ws.home, '.claude/settings.json'), 'utf8')).toBe('{}\n');
    // The rest of the agent's state stays writable.
    expect(readFileSync(join(ws.home, '.claude/state.json'), 'utf8')).toBe('x\n');
  });

  it('refuses the agents\' settings where not even their directory exists yet, opencode\'s .jsonc and Cursor\'s MCP servers', async () => {
    ws = workspace(user);
    // Each would make the agent, running outside the sandbox, run the command's code next time.
    const r = await fence(ws, ['-t', 'code', '-c', [
      'mkdir -p .claude sub/.codex .opencode .cursor',
      `echo '{"hooks":{}}' > .claude/settings.json; echo "claude=$?"`,
      'echo {} > sub/.codex/hooks.json; echo "codex=$?"',
      'mkdir .opencode/plugins; echo "plugins=$?"',
      `echo '{"plugins":["/tmp/p"]}' > opencode.jsonc; echo "opencode=$?"`,
      'echo {} > .opencode/opencode.jsonc; echo "opencodedir=$?"',
      `echo '{"mcpServers":{}}' > .cursor/mcp.json; echo "cursor=$?"`,
    ].join('; ')], { env: { HOME: ws.home } });
    for (const step of ['claude', 'codex', 'plugins', 'opencode', 'opencodedir', 'cursor']) expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]`, 'm'));
    for (const p of ['.claude/settings.json', 'sub/.codex/hooks.json', '.opencode/plugins', '.opencode/opencode.jsonc', '.cursor/mcp.json']) expect(existsSync(join(ws.dir, p)), p).toBe(false);
    expect(existsSync(join(ws.dir, 'opencode.jsonc'))).toBe(false);
  });

  it('keeps ~/.bun/bin (on PATH, bun itself) read-only while bun\'s cache stays writable', async () => {
    ws = workspace(user);
    for (const dir of ['.bun', '.bun/bin', '.bun/install']) {
      mkdirSync(join(ws.home, dir));
      own(ws, join(ws.home, dir));
    }
    const r = await fence(ws, ['-t', 'code', '-c', 'echo evil > ~/.bun/bin/fence; echo "bin=$?"; echo x > ~/.bun/install/x; echo "cache=$?"'], { env: { HOME: ws.home } });
    expect(r.stdout).toMatch(/^bin=[1-9]$/m);
    expect(r.stdout).toMatch(/^cache=0$/m);
    expect(existsSync(join(ws.home, '.bun/bin/fence'))).toBe(false);
  });

  it('a project extending code reaches its local server; git push and writes to .env are refused', async () => {
    ws = workspace(user);
    writeSettings(ws, { extends: 'code', network: { allowedDomains: ['localhost'], allowLocalOutbound: true } });
    writeFileSync(join(ws.dir, '.env'), 'TOKEN=1\n');
    own(ws, join(ws.dir, '.env'));
    const r = await fence(ws, ['-c', `${curl(`http://localhost:${server.port}/`)}; echo x >> .env; echo ok > out.txt`]);
    expect(r.stdout).toBe(`hello from localhost:${server.port}\n 200\n`);
    expect(r.stderr).toMatch(/\.env: Read-only file system/);
    expect(readFileSync(join(ws.dir, '.env'), 'utf8')).toBe('TOKEN=1\n');
    expect(readFileSync(join(ws.dir, 'out.txt'), 'utf8')).toBe('ok\n');
    const push = await fence(ws, ['--', 'git', 'push']);
    expect(push.status).toBe(1);
    expect(push.stderr).toMatch(/^fence: command "git push" is denied by command\.deny rule "git push"/);
  });
});

describe.each(USERS)('fence import --claude (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const recorded = join(import.meta.dirname, '../../packages/cli/test/fixtures/agents/claude-settings.json');

  function project(): void {
    // The recorded rules allow Edit(./src/**).
    mkdirSync(join(ws.dir, 'src'));
    own(ws, join(ws.dir, 'src'));
    mkdirSync(join(ws.dir, '.claude'));
    copyFileSync(recorded, join(ws.dir, '.claude/settings.json'));
    own(ws, join(ws.dir, '.claude'));
    own(ws, join(ws.dir, '.claude/settings.json'));
  }

  it('prints settings extending code and lists each rule it could not map', async () => {
    ws = workspace(user);
    project();
    const r = await fence(ws, ['import', '--claude']);
    expect(r.status).toBe(0);
    const settings = JSON.parse(r.stdout);
    expect(settings).toMatchObject({ extends: 'code', command: { deny: ['curl', 'rm -rf'] }, network: { deniedDomains: ['pastebin.com'] } });
    expect(settings.filesystem.denyRead).toEqual([`${ws.dir}/.env`, `${ws.dir}/secrets/**`, '/etc/shadow']);
    const file = `${ws.dir}/.claude/settings.json`;
    expect(r.stderr).toContain(`fence: import: not mapped: ask "Bash(git commit:*)" (${file}): Fence has no "ask": a command is allowed or denied\n`);
    expect(r.stderr).toMatch(/fence: import: 11 rule\(s\) mapped, 7 not mapped, from .*\.claude\/settings\.json\n$/);
  });

  it('--save writes fence.json, which fence then uses; a second --save refuses and changes nothing', async () => {
    ws = workspace(user);
    project();
    const saved = await fence(ws, ['import', '--claude', '--save']);
    expect(saved.status).toBe(0);
    const text = readFileSync(join(ws.dir, 'fence.json'), 'utf8');
    const denied = await fence(ws, ['-c', 'curl -s http://example.com']);
    expect(denied.stderr).toMatch(/^fence: command "curl -s http:\/\/example\.com" is denied by command\.deny rule "curl"/);
    const again = await fence(ws, ['import', '--claude', '--save']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/fence: --save: .*fence\.json exists and was left as it is; run fence import --claude without --save/);
    expect(readFileSync(join(ws.dir, 'fence.json'), 'utf8')).toBe(text);
  });

  it('says where it looked when Claude Code has no settings here', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['import', '--claude']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no Claude Code settings file found/);
    expect(existsSync(join(ws.dir, 'fence.json'))).toBe(false);
  });
});
